"""Stage 1's mixing plan: which sets of a prepared corpus are mixed, with which seed, at which
SNR, how many mixtures, and which test sets are mixed again at other SNRs.

Seeds go by position in the corpus (train 1, valid 2, test 3, other test sets 4, 5, ...; times
ten plus the run's seed), so adding a test set changes no other set's mixtures; an SNR copy of a
set reuses that set's seed, so its speech, noise and segments are the same and only the SNR
differs.
"""
from __future__ import annotations

from ..premixed import corpus_sets, snr_copies
from .systems import PlanError


def mixture_counts(train_hours: float, valid_hours: float, segment_seconds: float) -> tuple[int, int]:
    """Mixtures of ``segment_seconds`` that make the hours of training and validation (0: each
    source file once, whole)."""
    if segment_seconds <= 0 and (train_hours or valid_hours):
        raise PlanError("--train-hours and --valid-hours need --segment-seconds")
    n = lambda h: round(h * 3600 / segment_seconds) if h else 0  # noqa: E731
    return n(train_hours), n(valid_hours)


def mix_rows(src, seed: int, train_snr: str, test_snr: str, counts: tuple[int, int], of, snrs) -> list[tuple]:
    """``("mix", set, seed, snr, num_utts)`` per mixed set and ``("copy", set, seed, snr, name)`` per
    SNR copy (see the module docstring)."""
    rows, seeds = [], {}
    for i, s in enumerate(corpus_sets(src, "mix"), start=1):
        seeds[s] = seed * 10 + i
        n = {"train": counts[0], "valid": counts[1]}.get(s, 0)
        rows.append(("mix", s, str(seeds[s]), train_snr if s in ("train", "valid") else test_snr, str(n)))
    rows += [("copy", t, str(seeds[t]), f"{x} {x}", name) for t, x, name in snr_copies(src, of, snrs)]
    return rows
