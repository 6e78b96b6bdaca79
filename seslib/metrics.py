"""Per-utterance quality and intelligibility scores: PESQ (wide band), STOI, SI-SDR.

PESQ fails on some signals (no utterance detected, too short); :func:`score_pair` never
raises for that: it records NaN and the reason, and the caller counts them.

A hypothesis must have its reference's length to within :data:`LENGTH_TOLERANCE_S` (one 20 ms
hop: an enhancer that drops or pads its last frame still scores, the longer signal cut to the
shorter). Every enhancer of this library keeps the length exactly: the GCRN maps ``[B, N]`` to
``[B, N]``, and the peers' delays (RNNoise 480 samples, GTCRN 256, DeepFilterNet3 and
noisereduce as measured by ``seslib.peers.measure_delay``) are removed by advancing the output
with zeros at its end. A larger difference means the audio is not the reference's utterance
(a cut file, another recording, another sample rate) and is an error, not a score.
"""
from __future__ import annotations

import math

import numpy as np

from .audio import SAMPLE_RATE


def si_sdr_np(estimate: np.ndarray, reference: np.ndarray, eps: float = 1e-8) -> float:
    """SI-SDR in dB, paper eq. (1), as :func:`seslib.losses.si_sdr` (numpy, float64)."""
    e, r = estimate.astype(np.float64), reference.astype(np.float64)
    alpha = (e @ r) / (r @ r + eps)
    t = alpha * r
    return float(10 * np.log10((t @ t + eps) / ((t - e) @ (t - e) + eps)))


def pesq_wb(reference: np.ndarray, degraded: np.ndarray) -> tuple[float, str]:
    """Wide-band PESQ (ITU-T P.862.2) via the ``pesq`` package; ``(nan, reason)`` on failure."""
    from pesq import pesq
    try:
        return float(pesq(SAMPLE_RATE, reference, degraded, "wb")), ""
    except Exception as exc:  # pesq raises its own error types for silent/short input
        return math.nan, f"{type(exc).__name__}: {exc}"


def stoi(reference: np.ndarray, degraded: np.ndarray) -> float:
    """STOI (Taal et al., 2011) via ``pystoi``."""
    from pystoi import stoi as _stoi
    return float(_stoi(reference, degraded, SAMPLE_RATE, extended=False))


#: largest length difference, in seconds, between a hypothesis and its reference that is scored
LENGTH_TOLERANCE_S = 0.02


def check_lengths(reference: np.ndarray, degraded: np.ndarray, where: str = "") -> None:
    """ValueError naming ``where`` when the lengths differ by more than :data:`LENGTH_TOLERANCE_S`."""
    diff = abs(len(reference) - len(degraded))
    if diff > round(LENGTH_TOLERANCE_S * SAMPLE_RATE):
        raise ValueError(f"{where}: the hypothesis has {len(degraded)} samples, its reference {len(reference)} "
                         f"({diff / SAMPLE_RATE:.3f} s apart; at most {LENGTH_TOLERANCE_S} s is scored): "
                         "not the same utterance")


def score_pair(reference: np.ndarray, degraded: np.ndarray, where: str = "") -> dict:
    """All signal scores of one utterance; lengths within :data:`LENGTH_TOLERANCE_S` are matched
    by cutting the longer, a larger difference is a ValueError naming ``where``."""
    check_lengths(reference, degraded, where)
    n = min(len(reference), len(degraded))
    r, d = reference[:n], degraded[:n]
    p, err = pesq_wb(r, d)
    out = {"pesq": p, "stoi": stoi(r, d), "si_sdr": si_sdr_np(d, r)}
    if err:
        out["pesq_error"] = err
    return out
