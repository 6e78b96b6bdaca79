"""Offline sources: sentence text, noise families, TTS voices, the synthesis plan."""
import subprocess
import sys

import numpy as np
import pytest

from seslib import audio
from seslib.bin import synth_sources
from seslib.synth import noise, text, tts


def test_sentences_come_from_the_installed_package():
    s = text.load_sentences()
    assert len(s) > 5000
    assert len(set(s)) == len(s)
    for x in s[:500]:
        assert 5 <= len(x.split()) <= 24 and x[-1] in ".!?" and "--" not in x


@pytest.mark.parametrize("family", sorted(noise.FAMILIES))
def test_noise_families(family):
    talkers = [np.sin(np.arange(8000) * 0.05) * np.hanning(8000)] * 3
    x = noise.make_noise(family, seed=5, seconds=2.0, babble_speech=talkers)
    assert x.shape == (32000,) and np.all(np.isfinite(x))
    assert audio.level_db(x) == pytest.approx(-25, abs=0.5) or np.abs(x).max() == pytest.approx(0.99)
    assert np.abs(x).max() <= 0.99 + 1e-9
    assert np.array_equal(x, noise.make_noise(family, 5, 2.0, babble_speech=talkers))
    assert not np.array_equal(x, noise.make_noise(family, 6, 2.0, babble_speech=talkers))


def test_babble_needs_speech():
    with pytest.raises(ValueError, match="babble needs"):
        noise.make_noise("babble", 1, 1.0)


def test_piper_is_deterministic_per_seed(tmp_path):
    items = [("The quick brown fox jumps over the lazy dog.", {"length_scale": 1.0, "noise_scale": 0.667,
                                                               "noise_w_scale": 0.8}, tmp_path / f"{k}.wav")
             for k in ("a", "b")]
    tts.synth_batch("piper_joe", items[:1], seed=7)
    tts.synth_batch("piper_joe", items[1:], seed=7)
    a, b = (tmp_path / "a.wav").read_bytes(), (tmp_path / "b.wav").read_bytes()
    assert a == b
    x = audio.read_audio(tmp_path / "a.wav")
    assert 1.0 < len(x) / 16000 < 5.0
    assert audio.level_db(x) < -20


@pytest.mark.skipif(tts.available_voices()["flite_slt"] != "ok", reason="flite not installed")
def test_flite_and_festival_voices(tmp_path):
    tts.synth_batch("flite_slt", [("Hello there, my friend.", {"duration_stretch": 1.1}, tmp_path / "f.wav")], 0)
    assert len(audio.read_audio(tmp_path / "f.wav")) > 8000
    if tts.available_voices()["fest_kal"] == "ok":
        tts.synth_batch("fest_kal", [("Good morning to you all.", {"duration_stretch": 1.0}, tmp_path / "g.wav"),
                                     ("A second sentence here.", {"duration_stretch": 1.2}, tmp_path / "h.wav")], 0)
        assert len(audio.read_audio(tmp_path / "h.wav")) > 8000


def test_plan_keeps_sets_disjoint_and_holds_out_voices():
    cfg = synth_sources.load_config(None)
    cfg.update(sizes={"train": 60, "valid": 10, "test": 20, "test_heldout": 12}, babble_utts=10,
               heldout_voices=["flite_rms"], voices=["piper_joe", "flite_rms", "flite_awb"],
               train_only_voices=["espeak_enus_f2"])
    avail = {"piper_joe": "ok", "flite_rms": "ok", "flite_awb": "ok", "espeak_enus_f2": "ok"}
    plan = synth_sources.make_synth_plan(cfg, avail)
    sets = ("train", "valid", "test", "babble", "test_heldout")
    texts = {s: {e["text"] for e in plan["speech"] if e["set"] == s} for s in sets}
    for a in sets:
        for b in sets:
            assert a == b or not texts[a] & texts[b], (a, b)
    voices = {s: {e["voice"] for e in plan["speech"] if e["set"] == s} for s in sets}
    # the held-out voice reads only test_heldout; no voice of test_heldout is anywhere else
    assert voices["test_heldout"] == {"flite_rms"}
    assert not voices["test_heldout"] & (voices["train"] | voices["valid"] | voices["test"] | voices["babble"])
    # training-only voices never reach a test set
    assert "espeak_enus_f2" in voices["train"]
    assert "espeak_enus_f2" not in voices["test"] | voices["test_heldout"] | voices["babble"]
    assert voices["test"] == {"piper_joe", "flite_awb"}
    assert plan == synth_sources.make_synth_plan(cfg, avail)
    ids = [e["id"] for e in plan["noise"]]
    assert len(ids) == len(set(ids))
    # a voice that is not installed is skipped, not fatal
    plan2 = synth_sources.make_synth_plan(cfg, dict(avail, flite_awb="needs flite"))
    assert "flite_awb" not in plan2["voices"]
    # no held-out voice available: no held-out set (warned), and the other sets go on
    plan3 = synth_sources.make_synth_plan(cfg, dict(avail, flite_rms="needs flite"))
    assert not [e for e in plan3["speech"] if e["set"] == "test_heldout"]


@pytest.mark.skipif(tts.available_voices()["espeak_enus_f2"] != "ok", reason="espeak-ng not installed")
def test_espeak_voice(tmp_path):
    p = tts.sample_params("espeak_enus_f2", np.random.default_rng(0))
    tts.synth_batch("espeak_enus_f2", [("Hello there, my friend.", p, tmp_path / "e.wav")], 0)
    x = audio.read_audio(tmp_path / "e.wav")
    assert len(x) > 8000 and abs(audio.level_db(x) - tts.TARGET_LEVEL_DB) < 8


def test_config_errors(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("sizes: {train: 1, valid: 1, test: 1}\nbogus: 3\n")
    with pytest.raises(ValueError, match="unknown keys.*bogus"):
        synth_sources.load_config(p)
    p.write_text("test_voices: [flite_rms]\n")
    with pytest.raises(ValueError, match="heldout_voices"):
        synth_sources.load_config(p)
    p.write_text("voices: [piper_joe]\nheldout_voices: [flite_rms]\n")
    with pytest.raises(ValueError, match="not in voices"):
        synth_sources.load_config(p)
    p.write_text("families: [white, thunder]\n")
    with pytest.raises(ValueError, match="unknown noise families.*thunder"):
        synth_sources.load_config(p)


def _real_lists(tmp_path):
    """A real noise list and a real voice list (TSV, as local/real_noise.py and real_voices.py write them)
    over small wav files."""
    rng = np.random.default_rng(0)

    def wav(name):
        path = tmp_path / "real" / f"{name}.wav"
        path.parent.mkdir(exist_ok=True)
        audio.write_audio(path, (0.1 * rng.standard_normal(16000)).astype(np.float32))
        return str(path)
    noise = [("train", "music", 6), ("train", "typing", 1), ("train", "vehicle", 4), ("test", "music", 3),
             ("test", "weather", 2)]
    lines = ["id\tpath\tseconds\tcategory\tpackage\tlicence\tsplit"]
    for split, cat, n in noise:
        lines += [f"{split}pkg-{cat}{k}\t{wav(f'{split}-{cat}{k}')}\t1.00\t{cat}\t{split}pkg\tGPL-2+\t{split}"
                  for k in range(n)]
    (tmp_path / "noise_list.tsv").write_text("\n".join(lines) + "\n")
    voices = [("train", "big", 40), ("train", "small1", 8), ("train", "small2", 8), ("test", "held", 6)]
    lines = ["id\tpath\tseconds\tspeaker\tpackage\tlicence\tsplit"]
    for split, spk, n in voices:
        lines += [f"{spk}-{k:05d}\t{wav(f'{spk}{k}')}\t1.00\t{spk}\tkid-data\tGPL-2+\t{split}" for k in range(n)]
    (tmp_path / "voice_list.tsv").write_text("\n".join(lines) + "\n")
    return tmp_path / "noise_list.tsv", tmp_path / "voice_list.tsv"


def test_real_sources_join_the_plan_without_changing_the_synthetic_part_or_leaking_test_sources(tmp_path):
    nlist, vlist = _real_lists(tmp_path)
    cfg = synth_sources.load_config(None)
    cfg.update(sizes={"train": 6, "valid": 2, "test": 3, "test_heldout": 0}, babble_utts=2,
               voices=["piper_joe"], families=["white", "babble"],
               noise_per_family={"train": 1, "valid": 1, "test": 1})
    avail = {"piper_joe": "ok"}
    synthetic = synth_sources.make_synth_plan(cfg, avail)
    real_cfg = dict(cfg, real_noise={"per_category": {"train": 2, "valid": 1, "test": 2}, "weights": {"vehicle": 1.5}},
                    real_voices={"utterances": {"train": 12, "valid": 3, "test_real": 4}})
    noise_rows = synth_sources.read_list(nlist, "noise", ("id", "path", "category", "split"))
    voice_rows = synth_sources.read_list(vlist, "voice", ("id", "path", "speaker", "split"))
    plan = synth_sources.make_synth_plan(real_cfg, avail, noise_rows, voice_rows)
    assert plan == synth_sources.make_synth_plan(real_cfg, avail, noise_rows, voice_rows)  # a function of the seed
    # the synthetic part is drawn as before: adding real sources re-synthesises nothing
    assert [e for e in plan["speech"] if "path" not in e] == synthetic["speech"]
    assert [e for e in plan["noise"] if "path" not in e] == synthetic["noise"] and plan["shards"] == synthetic["shards"]
    assert synth_sources._stale_files(synthetic, plan) == []
    real = [e for e in plan["noise"] if "path" in e]
    count = {}
    for e in real:
        count[(e["set"], e["family"])] = count.get((e["set"], e["family"]), 0) + 1
    # per category: 2 train, 1 valid (x1.5 for vehicle: 3 and 2 of its 4 files... only 4 exist: 3 + 1);
    # typing has one file (train takes it); test draws only from the test packages
    assert count == {("train", "real:music"): 2, ("valid", "real:music"): 1, ("train", "real:typing"): 1,
                     ("train", "real:vehicle"): 3, ("valid", "real:vehicle"): 1,
                     ("test", "real:music"): 2, ("test", "real:weather"): 2}
    assert {e["package"] for e in real if e["set"] == "test"} == {"testpkg"}
    assert {e["package"] for e in real if e["set"] != "test"} == {"trainpkg"}
    train_files = {e["path"] for e in real if e["set"] == "train"}
    assert not train_files & {e["path"] for e in real if e["set"] == "valid"}
    voices = [e for e in plan["speech"] if "path" in e]
    spk = {s: [e["spk"] for e in voices if e["set"] == s] for s in ("train", "valid", "test_real")}
    assert set(spk["test_real"]) == {"held"} and len(spk["test_real"]) == 4
    assert "held" not in spk["train"] + spk["valid"] and len(spk["train"]) == 12 and len(spk["valid"]) == 3
    # speaker-balanced: the speaker with 40 utterances does not take 40/56 of the draw
    assert (spk["train"] + spk["valid"]).count("big") <= 9
    assert len({e["path"] for e in voices}) == len(voices)
    with pytest.raises(ValueError, match="give its list"):
        synth_sources.make_synth_plan(real_cfg, avail, noise_rows, None)
    with pytest.raises(ValueError, match="not in the noise list"):
        synth_sources.make_synth_plan(dict(real_cfg, real_noise={"weights": {"rain": 2}}), avail, noise_rows, voice_rows)


def test_real_sources_in_the_source_dirs(tmp_path):
    """finalize: test_real mixes real voices with the held-out real noise only; test keeps the
    procedural test noise beside the real one; sets with real voices have no transcript."""
    nlist, vlist = _real_lists(tmp_path)
    conf = tmp_path / "c.yaml"
    conf.write_text("seed: 1\nsizes: {train: 2, valid: 1, test: 2, test_heldout: 0}\nbabble_utts: 2\n"
                    "voices: [piper_joe]\nfamilies: [white, hum]\nnoise_per_family: {train: 1, valid: 1, test: 1}\n"
                    "noise_seconds: 2\nreal_noise: {conf: x.yaml, per_category: {train: 1, valid: 1, test: 1}}\n"
                    "real_voices: {conf: y.yaml, utterances: {train: 3, valid: 1, test_real: 2}}\n")
    out = tmp_path / "out"
    r = synth_sources.main(["plan", "--out", str(out), "--conf", str(conf), "--real-noise", str(nlist),
                            "--real-voices", str(vlist)])
    assert r == 0
    plan = synth_sources._load_plan(out)
    for e in plan["speech"]:  # stand-ins for the TTS audio: this test is about the source dirs
        if "path" not in e:
            audio.write_audio(out / "speech" / f"{e['id']}.wav", np.zeros(16000, np.float32))
    assert synth_sources.main(["noise", "--out", str(out), "--quiet"]) == 0
    summary = synth_sources.cmd_finalize(out)
    scp = lambda s, f: dict(ln.split(" ", 1) for ln in (out / s / f).read_text().splitlines())  # noqa: E731
    real_test = {e["path"] for e in plan["noise"] if "path" in e and e["set"] == "test"}
    assert set(scp("test_real", "noise.scp").values()) == real_test
    assert real_test < set(scp("test", "noise.scp").values()) and summary["sets"]["test"]["noise_instances"] == 4
    assert all("real/held" in p for p in scp("test_real", "speech.scp").values())
    assert not (out / "test_real" / "speech.text").exists() and not (out / "train" / "speech.text").exists()
    assert (out / "test" / "speech.text").is_file()
    assert _real_confs(conf) == "x.yaml y.yaml"


def _real_confs(conf):
    r = subprocess.run([sys.executable, "-m", "seslib.bin.synth_sources", "real-confs", "--conf", str(conf)],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()
