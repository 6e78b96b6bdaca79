"""Two systems' per-utterance scores (``scores.tsv`` of :mod:`seslib.bin.score`) compared with
the paired bootstrap of :mod:`seslib.analysis.bootstrap`, metric by metric."""
from __future__ import annotations

import csv
import math
from pathlib import Path

from ..dnsmos import COLUMNS as DNSMOS_COLUMNS
from .bootstrap import RESAMPLES, SEED, paired_bootstrap, paired_bootstrap_ratio

#: the intrusive metrics (they need the clean reference); higher is better
SIGNAL_METRICS = ("pesq", "stoi", "si_sdr")
#: metrics compared as means over utterances (higher is better): the intrusive ones and DNSMOS (seslib.dnsmos)
MEAN_METRICS = SIGNAL_METRICS + DNSMOS_COLUMNS


def read_scores(path) -> dict[str, dict]:
    """``{utt: row}`` of a ``scores.tsv`` (or of the ``score_<set>`` dir holding one)."""
    path = Path(path)
    path = path / "scores.tsv" if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no per-utterance scores {path} (run the scoring stage)")
    with open(path, encoding="utf-8", newline="") as f:
        return {r["utt"]: r for r in csv.DictReader(f, delimiter="\t")}


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def compare(a: dict, b: dict, resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, dict]:
    """Paired bootstrap of system ``a`` minus system ``b`` (rows of :func:`read_scores`).

    PESQ, STOI, SI-SDR and DNSMOS (where scored) over the utterances that both scored (a PESQ failure leaves an
    utterance out of the PESQ comparison); WER (percentage points) from the errors and
    reference words of every utterance, where both were recognised. Utterances are
    matched by id; ``a`` and ``b`` must hold the same ones.

    Returns:
        ``{metric: paired_bootstrap result}`` for ``pesq``, ``stoi``, ``si_sdr``, ``dnsmos_*`` and ``wer``
        (those present), each with ``n``, the utterances used.
    """
    if set(a) != set(b):
        only = sorted(set(a) ^ set(b))
        raise ValueError(f"the systems were scored on different utterances ({len(only)} differ, first {only[0]})")
    utts = sorted(a)
    out = {}
    for m in MEAN_METRICS:
        pairs = [(_float(a[u].get(m)), _float(b[u].get(m))) for u in utts]
        pairs = [p for p in pairs if not (math.isnan(p[0]) or math.isnan(p[1]))]
        if pairs:
            out[m] = {**paired_bootstrap([p[0] for p in pairs], [p[1] for p in pairs], resamples, seed),
                      "n": len(pairs)}
    if utts and all(a[u].get("word_errors", "") != "" and b[u].get("word_errors", "") != "" for u in utts):
        out["wer"] = {**paired_bootstrap_ratio([int(a[u]["word_errors"]) for u in utts],
                                               [int(b[u]["word_errors"]) for u in utts],
                                               [int(a[u]["ref_words"]) for u in utts], resamples, seed),
                      "n": len(utts)}
    return out


def differs(result: dict, metrics=SIGNAL_METRICS) -> bool:
    """Whether any of ``metrics`` of a :func:`compare` result has an interval that excludes zero."""
    return any(result[m]["significant"] for m in metrics if m in result)
