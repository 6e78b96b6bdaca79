"""Paired bootstrap intervals for the difference between two systems scored on the same
test utterances (Efron and Tibshirani, *An Introduction to the Bootstrap*, 1993; for ASR,
Bisani and Ney, "Bootstrap estimates for confidence intervals in ASR performance
evaluation", ICASSP 2004).

Each resample draws N utterances with replacement (the same draw for both systems: the
test is paired) and recomputes the difference: of the mean score (PESQ, STOI, SI-SDR), or
of the corpus WER, ``sum(errors) / sum(reference words)``, whose numerator and denominator
are resampled together. The interval is the percentile interval of the resampled
differences; a difference is called significant when the interval excludes zero.
"""
from __future__ import annotations

import numpy as np

RESAMPLES, SEED, LEVEL = 1000, 0, 0.95


def _draws(n: int, resamples: int, seed: int) -> np.ndarray:
    if n == 0:
        raise ValueError("no utterances to resample")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, not {resamples}")
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _result(diff: float, samples: np.ndarray, level: float) -> dict:
    lo, hi = np.percentile(samples, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return {"diff": float(diff), "low": float(lo), "high": float(hi), "level": level,
            "resamples": len(samples), "significant": bool(lo > 0 or hi < 0)}


def paired_bootstrap(a, b, resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL) -> dict:
    """Interval of ``mean(a) - mean(b)`` for per-utterance scores of two systems.

    Args:
        a, b: scores of the same utterances, in the same order, ``[N]``.
        resamples: number of bootstrap resamples.
        seed: seed of the resampling (the same seed draws the same utterances for every
            pair of systems of a table).
        level: coverage of the interval.

    Returns:
        ``{"diff", "low", "high", "level", "resamples", "significant"}``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired scores must be two [N] arrays of one length, not {a.shape} and {b.shape}")
    d = a - b
    return _result(d.mean(), d[_draws(len(d), resamples, seed)].mean(axis=1), level)


def paired_bootstrap_ratio(errors_a, errors_b, words, resamples: int = RESAMPLES, seed: int = SEED,
                           level: float = LEVEL, scale: float = 100.0) -> dict:
    """Interval of the corpus error-rate difference ``scale * (sum(e_a) - sum(e_b)) / sum(w)``.

    Args:
        errors_a, errors_b: each utterance's errors (substitutions + deletions + insertions)
            for the two systems, ``[N]``.
        words: each utterance's reference word count, ``[N]``.
        scale: 100 for percent.

    Returns:
        as :func:`paired_bootstrap`.
    """
    ea, eb, w = (np.asarray(x, dtype=np.float64) for x in (errors_a, errors_b, words))
    if not (ea.shape == eb.shape == w.shape) or ea.ndim != 1:
        raise ValueError(f"errors and words must be [N] arrays of one length, not {ea.shape}, {eb.shape}, {w.shape}")
    if w.sum() <= 0:
        raise ValueError("no reference words")
    idx = _draws(len(w), resamples, seed)
    wsum = w[idx].sum(axis=1)
    samples = scale * (ea[idx].sum(axis=1) - eb[idx].sum(axis=1)) / np.where(wsum > 0, wsum, np.nan)
    return _result(scale * (ea.sum() - eb.sum()) / w.sum(), samples[~np.isnan(samples)], level)
