"""Embedding analysis (paper Secs. 3.4-3.5): lag statistics against sequences whose correlation
is known, the paired bootstrap on scores with and without a difference, the high-band energy
share, and the teacher-shaped student (loss by hand, two steps, reloaded as a teacher)."""
import math

import numpy as np
import pytest
import torch

from conftest import write_scores

from seslib.analysis import (band_energy, high_band_ratio_db, lag_pairs, lag_statistics, paired_bootstrap,
                             paired_bootstrap_ratio)
from seslib.bin import train
from seslib.checkpoint import load_model
from seslib.modes.distill_student import l1_cosine
from seslib.teacher import Teacher
from seslib.train.trainer import Trainer


def test_lag_statistics_by_hand():
    e = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [2.0, 4.0, 6.0]])
    s = lag_statistics(e, lags_ms=(20, 40))
    # frames 0,1: centred (-1,0,1) and (1,0,-1): r = -1; frames 1,2: (1,0,-1), (-2,0,2): r = -1; frames 0,2: r = 1
    assert s[20]["corr"] == pytest.approx([-1.0, -1.0]) and s[40]["corr"] == pytest.approx([1.0])
    assert s[20]["dist"] == pytest.approx([math.sqrt(8), math.sqrt(1 + 4 + 25)])
    assert s[40]["dist"] == pytest.approx([math.sqrt(1 + 4 + 9)])
    assert lag_pairs(3, 5)[0].size == 0
    with pytest.raises(ValueError, match="multiple"):
        lag_statistics(e, lags_ms=(30,))


def test_lag_statistics_of_a_sequence_with_known_correlation():
    """An AR(1) sequence in time, e[t+1] = rho e[t] + sqrt(1 - rho^2) z: frames k apart have
    correlation rho^k and squared distance 2 D (1 - rho^k) in expectation."""
    rng = np.random.default_rng(0)
    rho, t, d = 0.8, 120, 2000
    e = np.empty((t, d))
    e[0] = rng.standard_normal(d)
    for i in range(1, t):
        e[i] = rho * e[i - 1] + math.sqrt(1 - rho ** 2) * rng.standard_normal(d)
    s = lag_statistics(e, lags_ms=(20, 60, 400, 2000))
    for ms in (20, 60, 400):
        k = ms // 20
        assert np.median(s[ms]["corr"]) == pytest.approx(rho ** k, abs=0.03)
        assert np.median(s[ms]["dist"]) == pytest.approx(math.sqrt(2 * d * (1 - rho ** k)), rel=0.03)
        assert len(s[ms]["corr"]) == t - k
    assert len(s[2000]["corr"]) == 20  # 100 frames apart


def test_paired_bootstrap_finds_a_known_difference_and_no_other():
    rng = np.random.default_rng(1)
    b = rng.normal(2.0, 3.0, 250)
    a = b + 0.5 + rng.normal(0, 0.5, 250)
    r = paired_bootstrap(a, b, resamples=2000, seed=3)
    assert r["diff"] == pytest.approx(np.mean(a - b)) and r["low"] < 0.5 < r["high"] and r["significant"]
    assert r == paired_bootstrap(a, b, resamples=2000, seed=3)  # seeded
    noise = rng.normal(0, 1.0, 125)
    same = b + np.concatenate([noise, -noise])  # mean difference exactly 0
    r = paired_bootstrap(same, b, resamples=2000)
    assert r["diff"] == pytest.approx(0.0, abs=1e-12) and r["low"] < 0 < r["high"] and not r["significant"]
    # pairing matters: the per-system spread (3.0) would hide a 0.5 shift in an unpaired test
    assert r["high"] - r["low"] < 0.5
    with pytest.raises(ValueError, match="one length"):
        paired_bootstrap(a, b[:-1])


def test_paired_bootstrap_of_error_rates():
    words = np.array([10, 20, 5, 15] * 50)
    eb = np.array([2, 4, 1, 3] * 50)
    ea = eb + np.array([1, 2, 0, 1] * 50)  # 4 more errors per 50 words: +8 points
    r = paired_bootstrap_ratio(ea, eb, words, resamples=1000)
    assert r["diff"] == pytest.approx(100 * 200 / 2500) and r["significant"]
    assert r["low"] <= 8.0 <= r["high"]
    r = paired_bootstrap_ratio(eb, eb, words)
    assert r["diff"] == 0 and r["low"] == r["high"] == 0 and not r["significant"]


def test_high_band_share_by_hand():
    sr, n = 16000, 16000
    t = np.arange(n) / sr
    low, high = np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 6000 * t)
    ref = low + high  # half its energy above 4 kHz
    x = 3 * (low + 0.1 * high)  # share 0.01 / 1.01, whatever its level
    assert band_energy(ref, sr, 4000) == pytest.approx(band_energy(ref, sr, 0, 4000), rel=1e-9)
    assert high_band_ratio_db(x, ref, sr) == pytest.approx(10 * math.log10((0.01 / 1.01) / 0.5), abs=1e-6)
    assert high_band_ratio_db(ref, ref, sr) == pytest.approx(0.0, abs=1e-9)


def test_student_loss_by_hand():
    pred = torch.tensor([[[1.0, 0.0], [1.0, 1.0]]])
    target = torch.tensor([[[2.0, 0.0], [1.0, -1.0]]])
    l1, cos = l1_cosine(pred, target)
    assert l1.item() == pytest.approx((1 + 0 + 0 + 2) / 4)
    assert cos.item() == pytest.approx(((1 - 1) + (1 - 0)) / 2)


def test_student_trains_and_becomes_a_teacher(corpus, tiny_teacher_dir, tmp_path):
    cfg = train.load_config(None, ["mode=distill_student", f"teacher.spec={tiny_teacher_dir}", "teacher.features=online",
                                   "model.channels=[4,6,8,8,8]", "train.batch_size=2", "train.crop_seconds=0.5",
                                   "train.max_steps=2", "train.valid_every=2", "train.ckpt_every=2",
                                   "train.valid_max_utts=2", "train.threads=1", "train.log_every=1"])
    t = Trainer(cfg, corpus / "train", corpus / "valid", tmp_path)
    student, teacher = t.mode.student, t.teacher
    assert not any(p.requires_grad for p in t.model.parameters()) and not any(p.requires_grad for p in teacher.parameters())
    start = {k: v.clone() for k, v in student.state_dict().items()}
    ref = Teacher(str(tiny_teacher_dir)).state_dict()
    # the teacher's shape, not its weights
    assert set(start) == set(ref) and any(not torch.equal(start[k], v) for k, v in ref.items() if v.is_floating_point())
    x = torch.randn(2, 8000) * 0.1
    loss, logs = t.mode(x, x, {"clean_last": teacher(x)[:, -1]})
    loss.backward()
    assert loss.item() == pytest.approx(float(logs["l1"] + logs["cos"]), rel=1e-6)
    missing = [n for n, p in student.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, missing
    assert all(p.grad is None for p in teacher.parameters()) and all(p.grad is None for p in t.model.parameters())
    t.opt.zero_grad()
    r = t.train()
    assert r["step"] == 2 and r["best"]["metric"] == "-loss" and math.isfinite(r["best"]["score"])
    ck = tmp_path / "last.pt"
    moved = torch.load(ck, weights_only=False)["model"]
    assert any(not torch.equal(moved[k], start[k]) for k in start)
    as_teacher = Teacher(str(ck))  # a trained student is a teacher spec
    assert as_teacher.name == str(ck.resolve()) and not as_teacher.random_init
    student.load_state_dict(moved)
    student.eval()
    with torch.no_grad():
        assert torch.allclose(as_teacher(x), student(x), atol=1e-6)
    with pytest.raises(ValueError, match="not an enhancer"):
        load_model(ck)


def test_seed_table_calls_a_difference_real_only_beyond_the_seed_spread(tmp_path, monkeypatch):
    """Seeds of Base at 1.0..1.4 dB; A at 2.0..2.2 (separate); B at 1.3..1.6 (its first seed, +0.3 dB, differs from
    Base's by the bootstrap, but the seed ranges overlap)."""
    import json

    from seslib.recipe.report.stats import intervals_section, seed_section
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    utt = rng.normal(0, 3, 200)
    utt -= utt.mean()
    for name, means in {"base": (1.0, 1.4, 1.2), "a": (2.0, 2.2, 2.1), "b": (1.3, 1.6, 1.5)}.items():
        for i, m in enumerate(means):
            d = tmp_path / "exp" / (name if i == 0 else f"{name}_seed{i + 1}") / "score_test"
            write_scores(d, utt + m + rng.normal(0, 0.05, 200))
            (d / "summary.json").write_text(json.dumps({"pesq": 1.2, "stoi": 0.7, "si_sdr": float(np.mean(utt) + m),
                                                        "wer": 50.0}))
    rows = [(lab, " ".join(f"exp/{n}" + ("" if i == 0 else f"_seed{i + 1}") for i in range(3)))
            for lab, n in (("Base", "base"), ("A", "a"), ("B", "b"))]
    md = "\n".join(seed_section(rows, "test"))
    line = {r.split(" | ")[0][2:]: r for r in md.splitlines() if r.startswith("| ") and " | 3 | " in r}
    assert line["A"].endswith("| +0.90 | yes |")
    assert line["B"].endswith("| +0.27 | no: seed ranges overlap |")
    assert "| 1.20 (1.00..1.40) |" in line["Base"] and line["Base"].endswith("| – | – |")
    comps = [("T", [("A", "exp/a", "exp/base", "Base"), ("B", "exp/b", "exp/base", "Base")])]
    md = "\n".join(intervals_section(comps, "test"))
    assert "| A | Base | +0.00 [+0.00, +0.00] | +0.000 [+0.000, +0.000] | +1.0" in md and "+0.0 [+0.0, +0.0] | – | – | – | – | 200 |" in md  # no DNSMOS scored
    md = "\n".join(intervals_section(comps, "test", rows[0][1].split()))  # Base's seeds span 0.40 dB
    line = {r.split(" | ")[0][2:]: r for r in md.splitlines() if r.startswith("| ")}
    assert "(0.40 dB)" in md and line["A"].endswith("| 200 | yes |") and line["B"].endswith("| 200 | no |")
    from seslib.recipe.report.stats import seed_cost
    stamps = tmp_path / "stages"
    stamps.mkdir()
    for name, sec in (("3_train_base_seed2", 300), ("3_train_base_seed3", 330), ("3_train_base", 999),
                      ("4_enhance_base_seed2_test", 20), ("5_score_base_seed2_test", 40), ("5_score_base_test", 90)):
        (stamps / f"{name}.done").write_text(json.dumps({"name": name, "elapsed_s": sec}))
    # only the extra seeds count: 630 s of training, 60 s of enhancement and scoring
    assert seed_cost(stamps, rows[:1]) == "2 extra trainings, 10 min, and 1 min of enhancement and scoring (stage stamps)"


def test_corpus_and_real_recording_tables(tmp_path):
    """seslib.recipe.report.corpus: each row's gain over the noisy input is the mean of the per-utterance
    differences, with its interval; the real-recording table shows the SNR copies every row has."""
    import json

    from seslib.recipe.report.tables import _summary
    from seslib.recipe.report.corpus import corpus_section, real_section
    rng = np.random.default_rng(3)
    noisy = rng.normal(-5, 2, 40)
    gain = {"noisy": 0.0, "a": 0.5, "c": 3.0}
    for name, g in gain.items():
        for t in ("test", "test_real", "test_real_snr0"):
            d = tmp_path / name / f"score_{t}"
            vals = noisy + g + (rng.normal(0, 0.1, 40) if name != "noisy" else 0)
            write_scores(d, vals, ovrl=np.full(40, 1.5 + g / 10))  # DNSMOS OVRL: the gain / 10 on every utterance
            (d / "summary.json").write_text(json.dumps({"pesq": 1.1, "stoi": 0.7, "si_sdr": float(vals.mean()),
                                                        "utterances": 40}))
    expect = {n: float(np.mean(np.array([float(ln.split("\t")[3]) for ln in
                                          (tmp_path / n / "score_test_real" / "scores.tsv").read_text().splitlines()[1:]])
                               - noisy)) for n in ("a", "c")}
    stamps = tmp_path / "stages"
    stamps.mkdir()
    (stamps / "3_train_c.done").write_text(json.dumps({"elapsed_s": 330}))
    rows = [("Noisy input", str(tmp_path / "noisy"), "noisy"), ("(a)", str(tmp_path / "a"), "a.pt"),
            ("(c)", str(tmp_path / "c"), "c.pt")]
    md = "\n".join(corpus_section(rows, ["test", "test_real"], _summary, stamps, lambda ck: f"budget of {ck}"))
    scores, gains = [r for r in md.splitlines() if r.startswith("| (c) |")]
    assert "| budget of c.pt | 5.5 min |" in scores
    assert f"{expect['c']:+.2f} [" in gains and gains.count(" *") == 4  # STOI equal: "+0.000 [...]" without *; OVRL +0.30
    md = "\n".join(real_section(rows, "test_real", ["test_snr0", "test_real_snr0", "test_real_snr5"], _summary))
    assert "| System | -5 dB | 0 dB | Δ STOI | Δ SI-SDR (dB) | Δ DNSMOS OVRL |" in md  # snr5: not scored, left out
    row_a = [r for r in md.splitlines() if r.startswith("| (a)")][0]
    assert f"| {expect['a']:+.2f} [" in row_a and row_a.endswith("| +0.05 [+0.05, +0.05] * |")
    assert "| 1.10 / 0.700 / " in row_a and " / – |" in row_a  # the summaries hold no DNSMOS mean: "–"
