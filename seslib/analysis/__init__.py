"""Analysis of the teacher's embeddings and of the score tables (paper, Secs. 3.4-3.5).

- :mod:`.lags`: correlation and Euclidean distance of embedding frames a fixed time apart
  (Figs. 3 and 4).
- :mod:`.spectra`: spectrograms of speech decoded from embeddings and its energy above
  4 kHz (Fig. 5).
- :mod:`.bootstrap`: paired bootstrap intervals of the difference between two systems
  scored on the same utterances; :mod:`.compare` applies it to two ``scores.tsv``.
"""
from .bootstrap import paired_bootstrap, paired_bootstrap_ratio
from .compare import compare, differs, read_scores
from .lags import LAGS_MS, lag_pairs, lag_statistics
from .spectra import band_energy, high_band_ratio_db

__all__ = ["LAGS_MS", "band_energy", "compare", "differs", "read_scores", "high_band_ratio_db", "lag_pairs", "lag_statistics",
           "paired_bootstrap", "paired_bootstrap_ratio"]
