"""GCRN conditioned on teacher features of its own input (paper, Sec. 2.2)."""
from __future__ import annotations

import torch
import torch.nn as nn

from .. import stft
from .gcrn import GCRN
from .layer_mix import LayerMix


class ConcatGCRN(nn.Module):
    """f_e[X, g_s(X)]: teacher features of the noisy input concatenated to the GCRN
    bottleneck, projected back to the bottleneck width, and decoded.

    The teacher is frozen and kept outside the module's parameters and state dict (a
    checkpoint names it; :func:`seslib.checkpoint.load_model` loads it again). It runs on
    the whole input, so the model is neither causal nor small: it fails the paper's
    on-device constraint, as Table 1 says.

    Args:
        gcrn: the enhancer.
        teacher: a :class:`seslib.teacher.Teacher` (``layers="all"``) or None when only
            :meth:`forward_features` is used (training on dumped features).
        teacher_dim, num_hidden: the teacher's width and number of hidden states.
        layers: ``"last"`` (last layer) or ``"all"`` (softmax-weighted sum, weights learned).

    Shape:
        ``[B, N]`` -> ``[B, N]``; features ``[B, T, D]`` (last) or ``[B, L + 1, T, D]`` (all).
    """

    def __init__(self, gcrn: GCRN, teacher, teacher_dim: int, num_hidden: int, layers: str = "last"):
        super().__init__()
        if layers not in ("last", "all"):
            raise ValueError(f"layers must be 'last' or 'all', not '{layers}'")
        self.gcrn, self.layers = gcrn, layers
        self.__dict__["teacher"] = teacher  # not a submodule: frozen, not saved
        self.mix = LayerMix(num_hidden, learn=True) if layers == "all" else None
        self.proj = nn.Linear(gcrn.embed_dim + teacher_dim, gcrn.embed_dim)
        self.config = {"layers": layers, "teacher_dim": teacher_dim, "num_hidden": num_hidden}

    def forward_features(self, noisy: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        emb, ctx = self.gcrn.encode(noisy, return_context=True)
        g = self.mix(feats) if self.mix is not None else feats
        g = stft.align_frames(g, emb.shape[1])  # equal counts: both pad to stft.padded_length
        return self.gcrn.decode(self.proj(torch.cat([emb, g], dim=-1)), ctx)

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        if self.teacher is None:
            raise RuntimeError("ConcatGCRN has no teacher loaded")
        with torch.no_grad():
            h = self.teacher(noisy)  # [B, L+1, T, D]
        return self.forward_features(noisy, h if self.layers == "all" else h[:, -1])

    def num_parameters(self) -> int:
        """Trainable parameters of the enhancer (GCRN, projection, layer weights), without the teacher."""
        return sum(p.numel() for p in self.parameters())
