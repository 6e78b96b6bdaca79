"""Convex combinations of a teacher's hidden states (the paper's "weighted sum", Sec. 2)."""
from __future__ import annotations

import torch
import torch.nn as nn


class LayerMix(nn.Module):
    """sum_l w_l h_l with w = softmax(a): learned (inputs) or fixed (targets).

    Args:
        num_layers: hidden states of the teacher (transformer layers + 1).
        learn: learn the logits ``a`` (initialised to 0: uniform weights).
        weights: fixed non-negative weights (normalised to sum 1); default uniform.

    Shape:
        ``[B, L, T, D]`` -> ``[B, T, D]``
    """

    def __init__(self, num_layers: int, learn: bool = False, weights=None):
        super().__init__()
        if weights is not None:
            w = torch.as_tensor(weights, dtype=torch.float32)
            if w.shape != (num_layers,) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"layer weights must be {num_layers} non-negative numbers, not {weights}")
            logits = torch.log(w / w.sum())
        else:
            logits = torch.zeros(num_layers)
        if learn:
            self.logits = nn.Parameter(logits)
        else:
            self.register_buffer("logits", logits)

    def weights(self) -> torch.Tensor:
        return torch.softmax(self.logits, dim=0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.shape[1] != self.logits.numel():
            raise ValueError(f"{h.shape[1]} hidden states, expected {self.logits.numel()}")
        return torch.einsum("l,bltd->btd", self.weights(), h)
