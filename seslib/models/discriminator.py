"""Block-wise 1-D convolutional discriminator on embedding sequences (paper, Sec. 2.3.2).

After the scale discriminators of MelGAN/HiFi-GAN (Kong et al., 2020, ref. [27] of the
paper): strided, grouped 1-D convolutions with leaky ReLU over the time axis of an
embedding sequence (channels = embedding dims), ending in one real/fake score per block
of frames rather than one per sequence.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class BlockDiscriminator(nn.Module):
    """Args:
        in_dim: embedding width (channels).
        channels: widths of the convolution stack.
        groups: groups of the strided convolutions (HiFi-GAN uses grouped convs).

    Shape:
        ``[B, T, D]`` -> ``[B, T']`` block scores (``T' ~ T / 4``).
    """

    def __init__(self, in_dim: int, channels=(128, 128, 256, 256), groups: int = 4):
        super().__init__()
        layers, c_in = [nn.Conv1d(in_dim, channels[0], 5, padding=2)], channels[0]
        for i, c in enumerate(channels[1:]):
            stride = 2 if i < 2 else 1
            layers.append(nn.Conv1d(c_in, c, 5, stride=stride, padding=2, groups=groups))
            c_in = c
        self.convs = nn.ModuleList(nn.utils.parametrizations.weight_norm(m) for m in layers)
        self.post = nn.utils.parametrizations.weight_norm(nn.Conv1d(c_in, 1, 3, padding=1))

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        h = emb.transpose(1, 2)
        for conv in self.convs:
            h = nn.functional.leaky_relu(conv(h), 0.1)
        return self.post(h)[:, 0]
