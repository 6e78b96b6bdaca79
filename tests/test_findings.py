"""The findings table (seslib.recipe.report.findings): each verdict on cases whose answer is known
by construction — constant per-utterance shifts (their bootstrap interval is the shift itself),
word error counts of a known corpus WER, lag quartiles and high-band energies written by hand."""
import json

import numpy as np
import pytest

from seslib.recipe.report import findings as F

UTTS = 40


def scores(path, si_sdr, pesq=1.5, stoi=0.7, errors=3, words=10):
    """A score dir with per-utterance rows: ``si_sdr`` an array; the rest constants."""
    path.mkdir(parents=True)
    lines = ["utt\tpesq\tstoi\tsi_sdr\tword_errors\tref_words\tpesq_error\thypothesis"]
    lines += [f"u{i:03d}\t{pesq}\t{stoi}\t{v}\t{errors}\t{words}\t\tx" for i, v in enumerate(si_sdr)]
    (path / "scores.tsv").write_text("\n".join(lines) + "\n")
    return str(path.parent)


@pytest.fixture
def utt():
    x = np.random.default_rng(0).normal(0, 3, UTTS)
    return x - x.mean()


def test_budget_matched_table3_verdicts(tmp_path, utt):
    """Fine-tuned = Base of equal steps + 1 dB on every utterance: interval [+1, +1]. Beyond a 0.4 dB
    seed range it is an established gain (disagrees with "pre-training does not help"); without the
    seed range it is not decided; 0.5 dB worse agrees."""
    ref = scores(tmp_path / "base_steps1800" / "score_test", utt + 2.0)
    up = scores(tmp_path / "ft_up" / "score_test", utt + 3.0)
    down = scores(tmp_path / "ft_down" / "score_test", utt + 1.5)
    claim, measured, verdict, how = F.table3(F.Evidence("test", 0.4, None), [("FT", up, ref)])
    assert verdict == F.DISAGREES and "+1.00 dB [+1.00, +1.00]" in measured and "0.40 dB" in how
    assert F.table3(F.Evidence("test", None, None), [("FT", up, ref)])[2] == F.OPEN
    assert F.table3(F.Evidence("test", 2.0, None), [("FT", up, ref)])[2] == F.AGREES  # within the seed range
    assert F.table3(F.Evidence("test", 0.4, None), [("FT", down, ref)])[2] == F.AGREES
    assert F.table3(F.Evidence("test", 0.4, None), [])[2] == F.ABSENT


def test_wer_claim_against_20_percent(tmp_path, utt):
    """3 errors in 10 words on every utterance: WER 30 % exactly, every resample 30 %: disagrees;
    1 in 10: 10 %, agrees; one row of each: not decided."""
    hi = scores(tmp_path / "pipeline_l1" / "score_test", utt, errors=3)
    lo = scores(tmp_path / "pipeline_l2" / "score_test", utt, errors=1)
    ev = F.Evidence("test", None, None)
    c, measured, verdict, _ = F.table2_wer(ev, [("L1", hi)])
    assert verdict == F.DISAGREES and "30.0 % [30.0, 30.0]" in measured
    assert F.table2_wer(ev, [("L2", lo)])[2] == F.AGREES
    assert F.table2_wer(ev, [("L1", hi), ("L2", lo)])[2] == F.OPEN
    # the teacher-fed decoder (1 error in 10) against its Frozen row (3 in 10): -20 points, agrees
    assert F.table2_frozen_vs_teacher(ev, [("L2", lo, hi)])[2] == F.AGREES
    assert "-20.0 points" in F.table2_frozen_vs_teacher(ev, [("L2", lo, hi)])[1]
    assert F.table2_frozen_vs_teacher(ev, [("L1", hi, lo)])[2] == F.DISAGREES


def test_table1_verdicts(tmp_path, utt):
    """Distillation Output 0.1 dB above Base with equal PESQ and STOI: best on all three (ties go to
    the first row, so Base is listed after it); Base 0.5 dB above it: disagrees; enhancement over the
    noisy input in PESQ only: agrees."""
    out = scores(tmp_path / "distill_output" / "score_test", utt + 1.1, pesq=1.6, stoi=0.8)
    base = scores(tmp_path / "base" / "score_test", utt + 1.0, pesq=1.5, stoi=0.7)
    ev = F.Evidence("test", None, None)
    assert F.table1_best(ev, [("Out", out), ("Base", base)])[2] == F.AGREES
    better = scores(tmp_path / "other" / "score_test", utt + 1.6, pesq=1.6, stoi=0.8)
    c, measured, verdict, _ = F.table1_best(ev, [("Out", out), ("Other", better)])
    assert verdict == F.DISAGREES and "SI-SDR: Other higher by +0.50 [+0.50, +0.50]" in measured
    # the largest gain over Base (+0.6 dB) is significant but, with one seed, not established
    assert F.table1_small(ev, [("Out", out), ("Other", better), ("Base", base)], base)[2] == F.OPEN
    assert F.table1_small(F.Evidence("test", 1.0, None), [("Other", better), ("Base", base)], base)[2] == F.AGREES
    noisy = scores(tmp_path / "noisy" / "score_test", utt - 5, pesq=1.1, stoi=0.7)
    c, measured, verdict, _ = F.table2_enhance(ev, [("Frozen", base)], noisy)
    assert verdict == F.AGREES and "1 of 1 rows" in measured
    assert F.table2_enhance(ev, [("Frozen", noisy)], noisy)[2] == F.DISAGREES


def test_embedding_verdicts(tmp_path):
    """Lag quartiles and high-band energies written by hand."""
    def q(med, lo, hi):
        return {"median": med, "q1": lo, "q3": hi, "n": 10}
    lags = {"teacher": {"dim": 4, "lags": {
        "20": {"corr": q(0.9, 0.85, 0.95), "dist": q(2.0, 1.5, 2.5)},
        "60": {"corr": q(0.7, 0.6, 0.8), "dist": q(4.0, 3.0, 5.0)},
        "400": {"corr": q(0.3, 0.2, 0.4), "dist": q(6.0, 5.0, 7.0)},
        "1000": {"corr": q(0.25, 0.15, 0.35), "dist": q(6.2, 5.1, 7.1)},
        "2000": {"corr": q(0.2, 0.1, 0.3), "dist": q(6.1, 5.0, 7.0)}}},
        "pretrain_enc_l1": {"dim": 4, "lags": {"1000": {"corr": q(0.8, 0.7, 0.9), "dist": q(1.0, 0.5, 1.5)}}}}
    (tmp_path / "lags").mkdir()
    (tmp_path / "lags" / "lags.json").write_text(json.dumps(lags))
    (tmp_path / "spectra").mkdir()
    (tmp_path / "spectra" / "spectra.json").write_text(json.dumps({"decoded": {
        "teacher": {"median_db": -1.0, "q1_db": -3.0, "q3_db": 0.5},
        "student": {"median_db": -12.0, "q1_db": -15.0, "q3_db": -9.0}}}))
    ev = F.Evidence("test", None, tmp_path)
    assert F.lags_corr(ev)[2] == F.AGREES  # 0.7 above 400 ms's third quartile 0.4
    assert F.lags_dist(ev)[2] == F.AGREES  # 6.0 / 6.2 / 6.1 inside each other's quartiles
    assert F.lags_average(ev)[2] == F.AGREES  # 0.8 above the teacher's 0.35
    assert F.high_band(ev)[2] == F.AGREES  # -12 dB below the teacher's first quartile
    lags["teacher"]["lags"]["60"]["corr"] = q(0.25, 0.2, 0.3)
    lags["teacher"]["lags"]["2000"]["dist"] = q(12.0, 11.0, 13.0)
    (tmp_path / "lags" / "lags.json").write_text(json.dumps(lags))
    ev = F.Evidence("test", None, tmp_path)
    assert F.lags_corr(ev)[2] == F.DISAGREES and F.lags_dist(ev)[2] == F.DISAGREES
    assert F.lags_corr(F.Evidence("test", None, None))[2] == F.ABSENT
    md = "\n".join(F.findings_section(ev, [], None, None, [], [], [], []))
    assert "| Claim | Measured here | Verdict | Decided by |" in md and md.count("| not measured |") == 7


def test_decoder_curve_verdict_and_section(tmp_path):
    """Points written by hand: the lowest reading (ii) WER is 35 % at step 600 (ties go to the earlier
    step): disagrees; one point at 15 %: agrees; the section's table has a row per step, by step."""
    from seslib.recipe.report.analysis import decoder_curve_section

    def pt(w2, w1):
        return {"ii": {"wer": w2, "per": 80.0, "utterances": 4}, "i": {"wer": w1, "per": 70.0, "utterances": 4}}
    d = tmp_path / "decoder_curve"
    d.mkdir()
    meta = {"snapshots": "exp/pretrain_dec_teacher/snapshots", "encoder": "exp/pretrain_enc_l1/best.pt",
            "data_dir": "data/test", "utterances": ["a", "b", "c", "d"]}
    points = {"300": pt(90.0, 60.0), "1200": pt(35.0, 25.0), "600": pt(35.0, 40.0)}
    (d / "curve.json").write_text(json.dumps({"meta": meta, "points": points}))
    claim, measured, verdict, _ = F.table2_wer_curve(F.Evidence("test", None, tmp_path))
    assert verdict == F.DISAGREES and "35.0 % at step 600 of 300-1200" in measured and "(i) 25.0 % at step 1200" in measured
    md = decoder_curve_section(d / "curve.json", tmp_path / "figs")
    rows = [line for line in md if line.startswith("| ") and line[2].isdigit()]
    assert [r.split(" | ")[0] for r in rows] == ["| 300", "| 600", "| 1200"]
    assert "reading (ii) 35.0 % at step 600; reading (i) 25.0 % at step 1200." in "\n".join(md)
    points["1500"] = pt(15.0, 12.0)
    (d / "curve.json").write_text(json.dumps({"meta": meta, "points": points}))
    assert F.table2_wer_curve(F.Evidence("test", None, tmp_path))[2] == F.AGREES
    assert F.table2_wer_curve(F.Evidence("test", None, None))[2] == F.ABSENT
