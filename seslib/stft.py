"""The 25 ms / 20 ms analysis-synthesis pair, aligned frame for frame with Wav2Vec2.

Frame ``t`` covers samples ``[320 t, 320 t + 400)``: no centring, the receptive field and
stride of Wav2Vec2's convolutional feature encoder (paper, Sec. 2: "a window of length
25ms and a stride of 20ms to achieve the downsampling factor of 320"), so an input of
``N >= 400`` samples gives ``floor((N - 400) / 320) + 1`` frames, as Wav2Vec2 does.

Windows. With 80 samples of overlap a Hann window would make the overlap-add sum nearly
zero between frames. Here analysis and synthesis windows are both a *square-root Tukey*
window: flat over the middle 240 samples, with 80-sample tapers ``sin`` up and ``cos``
down, so that in every overlap ``w_a w_s`` of one frame plus that of the next is
``sin^2 + cos^2 = 1``: the product overlap-adds to exactly one, no normalisation needed.

Edges. The first frame's window has no rising taper and the last frame's no falling
taper (each is flat to its edge), so the signal's first and last samples carry weight
one as well. :func:`padded_length` gives the length, at least ``N``, whose frames cover
every sample; zero-padding to it, ``istft(stft(x))[:N] == x`` up to float rounding.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .engine import float32

WIN = 400
HOP = 320
N_FFT = 512
TAPER = WIN - HOP  # 80
N_BINS = N_FFT // 2 + 1  # 257


def num_frames(n: int) -> int:
    """Frames of an ``n``-sample input: ``floor((n - 400) / 320) + 1`` (0 when n < 400),
    the count Wav2Vec2's feature encoder gives."""
    return 0 if n < WIN else (n - WIN) // HOP + 1


def padded_length(n: int) -> int:
    """Smallest length ``>= max(n, 400)`` whose frames cover every sample (``400 + 320 k``)."""
    return WIN + HOP * max(0, math.ceil((n - WIN) / HOP))


def sqrt_tukey(device=None, dtype=torch.float32) -> torch.Tensor:
    """The square-root Tukey window, shape ``[400]``: sin taper, 240 ones, cos taper."""
    k = (torch.arange(TAPER, dtype=torch.float64) + 0.5) / TAPER
    w = torch.cat([torch.sin(math.pi / 2 * k), torch.ones(WIN - 2 * TAPER, dtype=torch.float64),
                   torch.cos(math.pi / 2 * k)])
    return w.to(device=device, dtype=dtype)


def frame_windows(n_frames: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Per-frame windows, shape ``[T, 400]``: flat-started first row, flat-ended last row."""
    w = sqrt_tukey(device, dtype).expand(n_frames, WIN).clone()
    if n_frames:
        w[0, :TAPER] = 1.0
        w[-1, WIN - TAPER:] = 1.0
    return w


@float32
def stft(x: torch.Tensor) -> torch.Tensor:
    """Complex spectrogram.

    Shape:
        ``x``: ``[B, N]`` (``N >= 400``) -> ``[B, T, 257]`` complex, ``T = num_frames(N)``.
    """
    frames = x.unfold(-1, WIN, HOP)
    frames = frames * frame_windows(frames.shape[-2], x.device, x.dtype)
    return torch.fft.rfft(frames, n=N_FFT)


@float32
def istft(spec: torch.Tensor, length: int | None = None) -> torch.Tensor:
    """Overlap-add synthesis, the inverse of :func:`stft` over the covered samples.

    Shape:
        ``spec``: ``[B, T, 257]`` -> ``[B, length]`` (default ``400 + 320 (T - 1)``;
        longer is zero-padded, shorter is cut).
    """
    T = spec.shape[-2]
    frames = torch.fft.irfft(spec, n=N_FFT)[..., :WIN]
    frames = frames * frame_windows(T, frames.device, frames.dtype)
    full = WIN + HOP * (T - 1)
    y = F.fold(frames.transpose(1, 2), output_size=(1, full), kernel_size=(1, WIN), stride=(1, HOP))
    y = y.reshape(spec.shape[0], full)
    if length is not None:
        y = F.pad(y, (0, length - full)) if length > full else y[:, :length]
    return y


def align_frames(features: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Cut (or repeat the last frame of) a ``[B, T, D]`` sequence to ``n_frames`` frames,
    e.g. model frames of a padded input to the Wav2Vec2 frames of the unpadded one."""
    T = features.shape[1]
    if T >= n_frames:
        return features[:, :n_frames]
    return torch.cat([features, features[:, -1:].expand(-1, n_frames - T, -1)], dim=1)
