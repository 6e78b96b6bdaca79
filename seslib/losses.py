"""Training objectives, each with its equation from the paper.

Notation (paper, Sec. 2): ``X`` noisy, ``Y`` clean, ``f_e`` the enhancer. Every loss runs in
float32 under mixed precision (:func:`seslib.engine.float32`).
"""
from __future__ import annotations

import torch

from .engine import float32

EPS = 1e-8


@float32
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


@float32
def compressed_spectral(estimate: torch.Tensor, reference: torch.Tensor, c: float = 0.3, alpha: float = 0.3,
                        eps: float = 1e-8) -> torch.Tensor:
    """Compressed spectral loss (Braun & Tashev, "A consolidated view of loss functions for
    supervised deep learning-based speech enhancement", TSP 2021), on the model's STFT
    (:func:`seslib.stft.stft`) of both waveforms:

        L = (1 - alpha) mean | |Ŝ|^c - |S|^c |^2  +  alpha mean | |Ŝ|^c e^{j∠Ŝ} - |S|^c e^{j∠S} |^2

    c = 0.3 compresses the magnitudes (weak bins count); the complex term with weight
    alpha = 0.3 asks for the phase too, the magnitude term alone does not. Averaged over
    batch, frames and bins.

    Shape:
        ``[B, N], [B, N] -> []``
    """
    from . import stft as S
    n = S.padded_length(reference.shape[-1])
    pad = lambda x: torch.nn.functional.pad(x, (0, n - x.shape[-1]))  # noqa: E731
    a, b = S.stft(pad(estimate)), S.stft(pad(reference))
    ma, mb = (a.abs() + eps) ** c, (b.abs() + eps) ** c
    mag = (ma - mb).pow(2).mean()
    cplx = (ma * torch.exp(1j * a.angle()) - mb * torch.exp(1j * b.angle())).abs().pow(2).mean()
    return (1 - alpha) * mag + alpha * cplx


#: FFT sizes of :func:`multires_stft` (75 % overlap, Hann windows of the FFT's length): 16, 32 and 64 ms at 16 kHz
MRSTFT_FFT_SIZES = (256, 512, 1024)
_MRSTFT = {}


@float32
def multires_stft(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Multi-resolution STFT magnitude loss (Yamamoto, Song, Kim, "Parallel WaveGAN", ICASSP
    2020), through ``auraloss.freq.MultiResolutionSTFTLoss``: at each resolution r,

        L_r = || |S| - |Ŝ| ||_F / || |S| ||_F  +  mean | log |S| - log |Ŝ| |

    (spectral convergence + log-magnitude L1), averaged over the resolutions of
    :data:`MRSTFT_FFT_SIZES`. Magnitudes only: no phase is asked for, which a decoder of 50 Hz
    embeddings cannot know; several window lengths keep both the time and the frequency detail.

    Shape:
        ``[B, N], [B, N] -> []``
    """
    if "loss" not in _MRSTFT:
        from auraloss.freq import MultiResolutionSTFTLoss
        _MRSTFT["loss"] = MultiResolutionSTFTLoss(
            fft_sizes=list(MRSTFT_FFT_SIZES), hop_sizes=[n // 4 for n in MRSTFT_FFT_SIZES],
            win_lengths=list(MRSTFT_FFT_SIZES), w_sc=1.0, w_log_mag=1.0, w_lin_mag=0.0, w_phs=0.0)
    return _MRSTFT["loss"](estimate[:, None], reference[:, None])


@float32
def l1_distance(target: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference ``mean |target - pred|`` (the distillation and pre-training L1).

    Shape:
        ``[..., D], [..., D] -> []``
    """
    return (target - pred).abs().mean()


@float32
def l2_distance(target: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """Mean squared difference ``mean (target - pred)^2``.

    Shape:
        ``[..., D], [..., D] -> []``
    """
    return (target - pred).pow(2).mean()
