"""The findings table of RESULTS.md: each claim the paper makes, what this run measured, and a
verdict computed from the measurement (agrees / disagrees / not decided / not measured), with the
interval or the seed range that decides it.

A claim about a difference is decided by the paired bootstrap (:func:`seslib.analysis.compare`)
and, where the run trained several seeds of Base, by Base's seed range too: a gain is
*established* when its 95 % interval excludes zero and it exceeds that range. A claim about the
embeddings (Secs. 3.4-3.5) is decided by quartiles of the lag statistics and of the decoded
speech's high-band energy: two distributions differ when one's median lies outside the other's
interquartile range.
"""
from __future__ import annotations

import json
from pathlib import Path

from ...analysis.bootstrap import paired_bootstrap_ratio
from ...analysis.compare import compare, read_scores

AGREES, DISAGREES, OPEN, ABSENT = "agrees", "disagrees", "not decided", "not measured"


def _iv(r: dict, nd: int = 2, unit: str = "") -> str:
    return f"{r['diff']:+.{nd}f}{unit} [{r['low']:+.{nd}f}, {r['high']:+.{nd}f}]"


class Evidence:
    """What the findings read: per-utterance scores on the main set, Base's seed range, the
    analysis outputs. Args: ``test_set``; ``seed_width``: Base's SI-SDR range over training seeds
    (None when one seed); ``analysis_dir``: exp/analysis or None."""

    def __init__(self, test_set: str, seed_width: float | None, analysis_dir):
        self.test_set, self.seed_width = test_set, seed_width
        self.analysis_dir = Path(analysis_dir) if analysis_dir else None
        self._scores: dict = {}

    def scores(self, d):
        if d not in self._scores:
            try:
                self._scores[d] = read_scores(Path(d) / f"score_{self.test_set}")
            except FileNotFoundError:
                self._scores[d] = None
        return self._scores[d]

    def diff(self, a, b, metric="si_sdr") -> dict | None:
        """Paired bootstrap of ``a`` minus ``b`` in ``metric``; None when either is not scored."""
        sa, sb = self.scores(a), self.scores(b)
        if sa is None or sb is None:
            return None
        try:
            return compare(sa, sb).get(metric)
        except ValueError:
            return None

    def established(self, r: dict | None) -> bool | None:
        """A difference established: interval excludes zero and, with seeds, beyond Base's seed range.
        None when the seed range is needed and was not measured (one seed)."""
        if r is None:
            return None
        if not r["significant"]:
            return False
        if self.seed_width is None:
            return None
        return abs(r["diff"]) > self.seed_width

    def wer(self, d) -> dict | None:
        """Corpus WER (%) of ``d`` with its bootstrap interval (its errors minus none)."""
        s = self.scores(d)
        if not s or any(r.get("word_errors", "") == "" for r in s.values()):
            return None
        utts = sorted(s)
        errs = [int(s[u]["word_errors"]) for u in utts]
        return paired_bootstrap_ratio(errs, [0] * len(errs), [int(s[u]["ref_words"]) for u in utts])

    def json(self, *parts) -> dict | None:
        if self.analysis_dir is None:
            return None
        p = self.analysis_dir.joinpath(*parts)
        return json.loads(p.read_text()) if p.is_file() else None


def _seed_note(ev: Evidence) -> str:
    return (f"; Base's seed range {ev.seed_width:.2f} dB" if ev.seed_width is not None
            else "; one seed of Base (a gain needs the seed range to be established)")


def table1_best(ev, rows) -> tuple:
    """Sec. 3.2: distillation via the output works best on PESQ, STOI and SI-SDR (among the
    systems that meet the constraints)."""
    claim = "Table 1: Distillation Output is best on PESQ, STOI and SI-SDR among the on-device systems"
    out = next((d for _, d in rows if Path(d).name == "distill_output"), None)
    if out is None or ev.scores(out) is None:
        return claim, "–", ABSENT, "Distillation Output not trained"
    labels = {d: label for label, d in rows if ev.scores(d)}
    parts, beaten = [], []
    for m, name, nd in (("pesq", "PESQ", 2), ("stoi", "STOI", 3), ("si_sdr", "SI-SDR", 2)):
        def mean(d):
            vals = [float(r[m]) for r in ev.scores(d).values() if r.get(m) not in ("", "nan", None)]
            return sum(vals) / max(len(vals), 1)
        best = max(labels, key=mean)
        if best == out:
            parts.append(f"{name}: best")
            continue
        r = ev.diff(best, out, m)
        parts.append(f"{name}: {labels[best]} higher by {_iv(r, nd)}")
        beaten.append(r["significant"])
    verdict = AGREES if not beaten else DISAGREES if any(beaten) else OPEN
    return claim, f"of {len(labels)} rows, " + "; ".join(parts), verdict, "ranking of the means; paired bootstrap"


def table1_small(ev, rows, base) -> tuple:
    """Secs. 3.2, 4: using the teacher adds very little over Base."""
    claim = "Table 1 / Sec. 4: no way of using the teacher improves much on Base (paper: at most +0.2 dB SI-SDR)"
    if base is None:
        return claim, "–", ABSENT, "Base not trained"
    diffs = [(label, ev.diff(d, base)) for label, d in rows if d != base]
    diffs = [(label, r) for label, r in diffs if r is not None]
    if not diffs or ev.scores(base) is None:
        return claim, "–", ABSENT, "Table 1 not scored"
    label, r = max(diffs, key=lambda x: x[1]["diff"])
    est = ev.established(r)
    verdict = AGREES if r["diff"] <= 0 or est is False else DISAGREES if est else OPEN
    return claim, f"largest SI-SDR gain over Base: {label}, {_iv(r, unit=' dB')}", verdict, \
        "paired bootstrap" + _seed_note(ev)


def table2_enhance(ev, frozen, noisy) -> tuple:
    """Sec. 3.3: without fine-tuning, the pre-trained models do some enhancement."""
    claim = "Table 2: the pre-trained models, not fine-tuned, do some enhancement (PESQ, STOI above the noisy input)"
    res = []
    for label, d in frozen if noisy else []:
        rs = [ev.diff(d, noisy, m) for m in ("pesq", "stoi")]
        if None in rs:
            continue
        res.append((label, any(r["significant"] and r["diff"] > 0 for r in rs), rs))
    if not res:
        return claim, "–", ABSENT, "Table 2 not scored"
    k = sum(ok for _, ok, _ in res)
    detail = "; ".join(f"{label}: PESQ {_iv(rs[0])}, STOI {_iv(rs[1], 3)}" for label, _, rs in res)
    verdict = AGREES if k == len(res) else DISAGREES if k == 0 else OPEN
    return claim, f"{k} of {len(res)} rows above the noisy input ({detail})", verdict, "paired bootstrap"


def table2_wer(ev, teacher_rows) -> tuple:
    """Sec. 3.3: speech decoded from the SSL embeddings is intelligible, WER < 20 %."""
    claim = "Table 2: the decoder of SSL embeddings gives intelligible speech, WER < 20 % (paper: 7.4-16.5 %)"
    res = [(label, ev.wer(d)) for label, d in teacher_rows]
    res = [(label, w) for label, w in res if w is not None]
    if not res:
        return claim, "–", ABSENT, "reading (ii) not scored with an ASR"
    below = [w["high"] < 20 for _, w in res]
    above = [w["low"] >= 20 for _, w in res]
    verdict = AGREES if all(below) else DISAGREES if all(above) else OPEN
    detail = "; ".join(f"{label}: {w['diff']:.1f} % [{w['low']:.1f}, {w['high']:.1f}]" for label, w in res)
    return claim, detail, verdict, "bootstrap interval of the corpus WER against 20 %"


def table2_wer_curve(ev) -> tuple:
    """Sec. 3.3 again, decided by the decoder's curve: is the speech intelligible at any step?"""
    from .analysis import curve_minimum
    claim = "Table 2, against the decoder's steps: some budget of the decoder of SSL embeddings reaches WER < 20 %"
    data = ev.json("decoder_curve", "curve.json")
    low = curve_minimum(data["points"], "ii") if data else None
    if low is None:
        return claim, "–", ABSENT, "no decoder curve (reading (ii))"
    steps = sorted(int(s) for s in data["points"])
    diag = curve_minimum(data["points"], "i")
    measured = (f"lowest reading (ii) WER {low[1]['wer']:.1f} % at step {low[0]} of {steps[0]}-{steps[-1]} "
                f"({low[1]['utterances']} utterances)" + (f"; reading (i) {diag[1]['wer']:.1f} % at step {diag[0]}"
                                                         if diag else ""))
    verdict = AGREES if low[1]["wer"] < 20 else DISAGREES
    return claim, measured, verdict, "the curve's lowest point against 20 % (within the steps trained)"


def table2_frozen_vs_teacher(ev, pairs) -> tuple:
    """Sec. 3.3: the decoder trained on SSL embeddings is more intelligible than the one on the frozen encoder."""
    claim = "Table 2: decoding from SSL embeddings is more intelligible than from the frozen encoder (lower WER)"
    res = [(lt, ev.diff(dt, df, "wer")) for lt, dt, df in pairs]
    res = [(lt, r) for lt, r in res if r is not None]
    if not res:
        return claim, "–", ABSENT, "not scored with an ASR"
    better = [r["significant"] and r["diff"] < 0 for _, r in res]
    worse = [r["significant"] and r["diff"] > 0 for _, r in res]
    verdict = AGREES if all(better) else DISAGREES if all(worse) else OPEN
    detail = "; ".join(f"{lt} minus its Frozen row: {_iv(r, 1, ' points')}" for lt, r in res)
    return claim, detail, verdict, "paired bootstrap (WER)"


def table3(ev, pairs) -> tuple:
    """Sec. 3.3: pre-training does not help; the fine-tuned models are slightly worse than Base."""
    claim = "Table 3: pre-training does not help: fine-tuned no better than Base (here: Base of the same total steps)"
    res = [(label, ev.diff(d, ref)) for label, d, ref in pairs]
    res = [(label, r) for label, r in res if r is not None]
    if not res:
        return claim, "–", ABSENT, "Table 3 not scored"
    gains = [ev.established(r) if r["diff"] > 0 else False for _, r in res]
    verdict = DISAGREES if any(gains) else AGREES if all(g is False for g in gains) else OPEN
    detail = "; ".join(f"{label}: {_iv(r, unit=' dB')} SI-SDR" for label, r in res)
    return claim, detail, verdict, "paired bootstrap against the Base of equal steps" + _seed_note(ev)


def _separate(a: dict, b: dict) -> bool:
    """``a``'s median above ``b``'s third quartile (the distributions differ)."""
    return a["median"] > b["q3"]


def lags_corr(ev) -> tuple:
    """Sec. 3.4: the teacher's frames are highly correlated only up to ~60 ms."""
    claim = "Sec. 3.4: the teacher's frames are highly correlated only up to about 60 ms (Fig. 3 a)"
    data = ev.json("lags", "lags.json")
    if not data or "teacher" not in data:
        return claim, "–", ABSENT, "no lag statistics"
    c = data["teacher"]["lags"]
    near, far = c.get("60", {}).get("corr"), c.get("400", {}).get("corr")
    if not near or not far:
        return claim, "–", ABSENT, "lags 60 and 400 ms not measured"
    measured = "median corr. " + ", ".join(f"{ms} ms {v['corr']['median']:.2f}" for ms, v in c.items())
    verdict = AGREES if _separate(near, far) else DISAGREES if near["median"] <= far["median"] else OPEN
    return claim, measured, verdict, "60 ms median against the 400 ms quartiles"


def lags_dist(ev) -> tuple:
    """Sec. 3.4: the teacher's frames are similar in magnitude (distance) throughout an utterance."""
    claim = "Sec. 3.4: the teacher's frames keep a similar distance from each other at every lag from 400 ms to 2 s"
    data = ev.json("lags", "lags.json")
    if not data or "teacher" not in data:
        return claim, "–", ABSENT, "no lag statistics"
    far = [data["teacher"]["lags"][ms]["dist"] for ms in ("400", "1000", "2000") if ms in data["teacher"]["lags"]]
    if len(far) < 2:
        return claim, "–", ABSENT, "long lags not measured"
    inside = all(b["q1"] <= a["median"] <= b["q3"] for a in far for b in far)
    measured = "median distance " + ", ".join(f"{x['median']:.1f} [{x['q1']:.1f}, {x['q3']:.1f}]" for x in far)
    return claim, measured, AGREES if inside else DISAGREES, "each median inside every other lag's quartiles"


def lags_average(ev) -> tuple:
    """Sec. 3.4: the pre-trained GCRN encoder learns an average representation."""
    claim = ("Sec. 3.4: the pre-trained encoder learns an average representation (its P(f_enc(X)) frames stay "
             "correlated at long lags, where the teacher's do not)")
    data = ev.json("lags", "lags.json")
    src = next((k for k in (data or {}) if k.startswith("pretrain_enc")), None)
    if not data or src is None or "teacher" not in data:
        return claim, "–", ABSENT, "the pre-trained encoder is not in the lag statistics"
    a, t = data[src]["lags"].get("1000", {}).get("corr"), data["teacher"]["lags"].get("1000", {}).get("corr")
    if not a or not t:
        return claim, "–", ABSENT, "lag 1 s not measured"
    measured = f"median corr. at 1 s: {src} {a['median']:.2f}, teacher {t['median']:.2f} [{t['q1']:.2f}, {t['q3']:.2f}]"
    verdict = AGREES if _separate(a, t) else DISAGREES if a["median"] <= t["median"] else OPEN
    return claim, measured, verdict, "1 s median against the teacher's quartiles"


def high_band(ev) -> tuple:
    """Sec. 3.5, Fig. 5: the distilled student loses the high-frequency energy the teacher's embeddings keep."""
    claim = "Sec. 3.5 / Fig. 5: speech decoded from the student's embeddings loses the high band the teacher's keep"
    sp = ev.json("spectra", "spectra.json")
    dec = (sp or {}).get("decoded", {})
    if "teacher" not in dec or "student" not in dec:
        return claim, "–", ABSENT, "no decoded spectra"
    t, s = dec["teacher"], dec["student"]
    measured = (f"high-band energy vs clean: teacher {t['median_db']:.1f} dB [{t['q1_db']:.1f}, {t['q3_db']:.1f}], "
                f"student {s['median_db']:.1f} dB [{s['q1_db']:.1f}, {s['q3_db']:.1f}]")
    verdict = AGREES if s["median_db"] < t["q1_db"] else DISAGREES if s["median_db"] >= t["median_db"] else OPEN
    return claim, measured, verdict, "student's median against the teacher's quartiles"


def findings_section(ev: Evidence, table1_rows, base, noisy, frozen, teacher_rows, frozen_pairs, t3_pairs) -> list[str]:
    """The table. Args: ``table1_rows``: ``(label, dir)`` of Table 1's on-device GCRNs; ``base``,
    ``noisy``: their dirs; ``frozen``: Table 2's rows fed the noisy input; ``teacher_rows``: reading
    (ii) rows; ``frozen_pairs``: ``(label, teacher-row dir, its Frozen row dir)``; ``t3_pairs``:
    ``(label, fine-tuned dir, Base of its budget dir)``."""
    claims = [table1_best(ev, table1_rows), table1_small(ev, table1_rows, base), table2_enhance(ev, frozen, noisy),
              table2_wer(ev, teacher_rows), table2_wer_curve(ev),
              table2_frozen_vs_teacher(ev, frozen_pairs), table3(ev, t3_pairs), lags_corr(ev), lags_dist(ev),
              lags_average(ev), high_band(ev)]
    md = ["## The paper's claims, tested", "",
          f"Each claim of the paper (`paper.md`, the section named) against this run, on {ev.test_set}; the verdict is "
          "computed from the measurement (seslib.recipe.report.findings): *agrees*, *disagrees*, *not decided* (the "
          "interval or the seed range does not decide it) or *not measured* (the run did not train or score what it "
          "needs). The paper's setting (Wav2Vec2, DNS Challenge, 4 M steps) differs from this run's: a verdict says "
          "what this run shows, not whether the paper erred.", "",
          "| Claim | Measured here | Verdict | Decided by |", "|---|---|---|---|"]
    md += [f"| {c} | {m} | {v} | {how} |" for c, m, v, how in claims]
    return md + [""]
