"""High-band energy of decoded speech (paper, Sec. 3.5, Fig. 5): the paper's claim that
the decoder reconstructs the energy above 4 kHz from Wav2Vec2's embeddings but not from a
distilled student's, as a number over a test set.
"""
from __future__ import annotations

import numpy as np

CUTOFF_HZ = 4000.0


def band_energy(x, sample_rate: int, low: float = 0.0, high: float | None = None) -> float:
    """Energy of ``x`` between ``low`` and ``high`` Hz (``sum |X(f)|^2`` of its DFT over the band,
    which by Parseval's theorem sums to ``N * sum x^2`` over all bins counted on both sides).

    Shape:
        ``[N]`` -> scalar.
    """
    x = np.asarray(x, dtype=np.float64)
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / sample_rate)
    high = sample_rate / 2 if high is None else high
    return float(spec[(f >= low) & (f <= high)].sum())


def high_band_ratio_db(x, reference, sample_rate: int, cutoff: float = CUTOFF_HZ, eps: float = 1e-20) -> float:
    """The share of ``x``'s energy above ``cutoff``, relative to the same share of ``reference``, in dB:

        10 log10( (E_x(>c) / E_x) / (E_ref(>c) / E_ref) )

    0 dB: ``x`` has as much of its energy in the high band as the reference; -10 dB: a tenth.
    Shares, not energies, so the decoded speech's overall level does not enter.
    """
    share_x = band_energy(x, sample_rate, cutoff) / max(band_energy(x, sample_rate), eps)
    share_r = band_energy(reference, sample_rate, cutoff) / max(band_energy(reference, sample_rate), eps)
    return float(10 * np.log10(max(share_x, eps) / max(share_r, eps)))
