"""Training objectives, each with its equation from the paper.

Notation (paper, Sec. 2): ``X`` noisy, ``Y`` clean, ``f_e`` the enhancer.
"""
from __future__ import annotations

import torch

EPS = 1e-8


def si_sdr(estimate: torch.Tensor, reference: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Scale-invariant SDR in dB, paper eq. (1) (Le Roux et al., 2019):

        SISDR(Ŷ, Y) = 10 log10( ||αY||² / ||αY - Ŷ||² ),   α = Ŷᵀ Y / ||Y||²

    computed as written (no mean removal), per signal.

    Shape:
        ``[B, N], [B, N] -> [B]``
    """
    alpha = (estimate * reference).sum(-1, keepdim=True) / (reference.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * reference
    return 10 * torch.log10((target.pow(2).sum(-1) + eps) / ((target - estimate).pow(2).sum(-1) + eps))


def neg_si_sdr(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The enhancement loss L = -SISDR(f_e(X), Y), averaged over the batch (eq. 1)."""
    return -si_sdr(estimate, reference).mean()
