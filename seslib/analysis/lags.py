"""Lag statistics of an embedding sequence (paper, Sec. 3.4, Figs. 3 and 4).

For every pair of frames ``(t, t + k)`` of one utterance's embeddings ``E`` (``[T, D]``, one
frame per 20 ms), with ``k`` the lag in frames:

- the Pearson correlation across the D dimensions,
  ``r = sum_d (E[t,d] - mean_t)(E[t+k,d] - mean_{t+k}) / (sqrt(sum_d (E[t,d] - mean_t)^2)
  sqrt(sum_d (E[t+k,d] - mean_{t+k})^2))``, ``mean_t`` the mean of frame t over its D values;
- the Euclidean distance ``|| E[t] - E[t+k] ||_2``.

The paper reads the two together: Wav2Vec2's frames are correlated only up to about 60 ms
(a phone) but about equally far apart at every lag, so content lives in small variations
on a large common part.
"""
from __future__ import annotations

import numpy as np

#: the paper's lags (ms)
LAGS_MS = (20, 60, 400, 1000, 2000)
FRAME_MS = 20


def lag_pairs(n_frames: int, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(t, t + lag)`` of every frame pair ``lag`` frames apart in a sequence of
    ``n_frames`` (empty when the sequence is not longer than the lag)."""
    t = np.arange(max(n_frames - lag, 0))
    return t, t + lag


def lag_statistics(emb, lags_ms=LAGS_MS, frame_ms: int = FRAME_MS) -> dict[int, dict[str, np.ndarray]]:
    """Correlation and distance of every frame pair at each lag (module docstring).

    Args:
        emb: one utterance's embeddings, ``[T, D]`` (numpy or torch).
        lags_ms: lags in ms, multiples of ``frame_ms``.
        frame_ms: the frame period.

    Returns:
        ``{lag_ms: {"corr": [P], "dist": [P]}}``, P = T - lag frames (0 when the
        utterance is too short for that lag).

    Shape:
        ``[T, D]`` -> per lag ``[T - k]``.
    """
    e = np.asarray(emb.detach().cpu() if hasattr(emb, "detach") else emb, dtype=np.float64)
    if e.ndim != 2:
        raise ValueError(f"embeddings must be [T, D], not shape {e.shape}")
    centred = e - e.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=1)
    out = {}
    for ms in lags_ms:
        if ms % frame_ms:
            raise ValueError(f"lag {ms} ms is not a multiple of the {frame_ms} ms frame period")
        a, b = lag_pairs(len(e), ms // frame_ms)
        den = norm[a] * norm[b]
        corr = np.where(den > 0, (centred[a] * centred[b]).sum(axis=1) / np.where(den > 0, den, 1.0), 0.0)
        out[ms] = {"corr": corr, "dist": np.linalg.norm(e[a] - e[b], axis=1)}
    return out


def pool(stats: list[dict]) -> dict[int, dict[str, np.ndarray]]:
    """The per-utterance results of :func:`lag_statistics` concatenated lag by lag."""
    lags = stats[0].keys() if stats else ()
    return {ms: {k: np.concatenate([s[ms][k] for s in stats]) for k in ("corr", "dist")} for ms in lags}


def quartiles(values: np.ndarray) -> dict[str, float]:
    """``{"n", "q1", "median", "q3"}`` of a sample (NaN when empty)."""
    if len(values) == 0:
        return {"n": 0, "q1": float("nan"), "median": float("nan"), "q3": float("nan")}
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return {"n": int(len(values)), "q1": float(q1), "median": float(med), "q3": float(q3)}
