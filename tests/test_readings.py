"""The readings section (seslib.recipe.report.readings): pairs found by name, the side the evidence
favours on cases built so that the answer is known (constant shifts: the bootstrap interval is the
shift itself; known word error counts), the sentence that follows, and the triplet's logged hinge."""
import numpy as np

from seslib.recipe.report import readings as R
from seslib.recipe.report.findings import Evidence
from test_findings import scores

UTTS = 40


def utt():
    x = np.random.default_rng(0).normal(0, 3, UTTS)
    return x - x.mean()


def test_pairs_by_name_only_where_the_default_is_a_row():
    rows = [("L1 / Frozen", "exp/pretrain_dec_frozen_l1"), ("L1 / Frozen, b", "exp/pretrain_dec_frozen_l1_bottleneck"),
            ("(ii)", "exp/pipeline_l1"), ("(ii) upsample", "exp/pipeline_l1_upsample"),
            ("(i) upsample", "exp/pretrain_dec_teacher_upsample")]  # its default is not a row
    pairs = R.reading_pairs(rows)
    assert [(s, a, d) for s, a, _, d, _ in pairs] == [("_bottleneck", "L1 / Frozen, b", "L1 / Frozen"),
                                                      ("_upsample", "(ii) upsample", "(ii)")]


def test_favoured_side_and_its_sentence(tmp_path):
    """Upsample decoder: 1 error in 10 words against 3 in 10: WER -20 points on every resample, the
    alternative is favoured; the other way round the default is; equal counts decide nothing. The
    frozen decoder fed the bottleneck: PESQ up 0.2 and STOI down 0.05 (both intervals exclude zero): neither."""
    x = utt()
    dup = scores(tmp_path / "pipeline_l1" / "score_test", x, errors=3)
    up = scores(tmp_path / "pipeline_l1_upsample" / "score_test", x, errors=1)
    ev = Evidence("test", None, None)
    md = R.readings_section(ev, [("(ii)", dup), ("(ii) upsample", up)])
    row = next(line for line in md if line.startswith("| (ii) upsample beside (ii)"))
    assert "WER -20.0 points [-20.0, -20.0]" in row and "| the alternative |" in row
    assert "does not follow the evidence" in row
    assert R.favoured({"wer": ev.diff(dup, up, "wer")}) == -1
    assert R.favoured({"wer": ev.diff(dup, dup, "wer")}) == 0

    fl1 = scores(tmp_path / "pretrain_dec_frozen_l1" / "score_test", x, pesq=1.2, stoi=0.70)
    fp = scores(tmp_path / "pretrain_dec_frozen_l1_bottleneck" / "score_test", x, pesq=1.4, stoi=0.65)
    worse = scores(tmp_path / "b" / "pretrain_dec_frozen_l1_bottleneck" / "score_test", x, pesq=1.0, stoi=0.70)
    diffs = {k: ev.diff(fp, fl1, k) for k in ("pesq", "stoi")}
    assert abs(diffs["pesq"]["diff"] - 0.2) < 1e-9 and diffs["stoi"]["significant"]
    assert R.favoured(diffs) == 0
    assert R.favoured({k: ev.diff(worse, fl1, k) for k in ("pesq", "stoi")}) == -1  # PESQ worse, STOI equal
    md = R.readings_section(ev, [("F", fl1), ("F, P", worse)])
    assert "The evidence favours the default, M(P(f_enc(X)))" in md[-2]


def test_unscored_alternative_is_not_measured(tmp_path):
    dup = scores(tmp_path / "pipeline_l1" / "score_test", utt())
    md = R.readings_section(Evidence("test", None, None), [("(ii)", dup), ("(ii) up", str(tmp_path / "pipeline_l1_upsample"))])
    assert "Not measured" in md[-2] and "| – |" in md[-2]
    assert R.readings_section(Evidence("test", None, None), [("(ii)", dup)]) == []


def test_triplet_hinge_from_its_training_log(tmp_path):
    """The last logged ``active`` decides: 1.000 -> the margin is a constant; 0.750 -> 25 % switched off."""
    d = tmp_path / "triplet"
    d.mkdir()
    (d / "config.yaml").write_text("mode: triplet\nmode_options: {weight: 0.01, margin: 13.5}\n")
    log = ("2026-12-07 13:11:28 step 50/600 si_sdr -35.2 triplet 13.2 d_ap 25.9 d_an 26.2 active 0.750 loss 35.3\n"
           "2026-12-07 13:11:30 step 100: valid SI-SDR -2.0 dB (best)\n"
           "2026-12-07 13:17:49 step 600/600 si_sdr 4.8 triplet 11.1 d_ap 121.9 d_an 124.3 active 1.000 loss -4.7\n")
    (d / "train.log").write_text(log)
    assert R.last_logged(d / "train.log", "active") == 1.0 and R.last_logged(d / "train.log", "d_an") == 124.3
    [row] = R.triplet_rows([("Triplet", str(d))])
    assert "m = 13.5" in row and "active hinge at the last logged step: 1.000, d_ap 121.9, d_an 124.3" in row
    assert "the margin is a constant" in row
    (d / "train.log").write_text(log.rsplit("\n", 2)[0] + "\n")
    assert "switches 25.0 % of the hinges off" in R.triplet_rows([("Triplet", str(d))])[0]
    assert R.triplet_rows([("Triplet", str(tmp_path / "none"))]) == []
