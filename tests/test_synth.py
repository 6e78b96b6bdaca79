"""Offline sources: sentence text, noise families, TTS voices, the synthesis plan."""
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
