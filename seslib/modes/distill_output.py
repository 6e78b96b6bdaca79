"""Distillation on the enhanced output, through the frozen teacher (paper, Sec. 2.4)."""
from __future__ import annotations

import torch

from ..losses import l1_distance, neg_si_sdr
from .base import TeacherMode


class DistillOutput(TeacherMode):
    """Output distillation (Sec. 2.4, eq. 5):

        L_E = -SISDR(f_e(X), Y) + lambda * || g_s(Y) - g_s(f_e(X)) ||_1

    The teacher runs on the enhanced crop and, without gradient, on the clean crop; the
    gradient of the L1 term flows through the frozen teacher into the enhanced waveform.
    No projection is needed. Both teacher passes see the same crop, so the mode reads no
    dumped features. ``weight`` is lambda (default 1.0; the paper does not give it).
    """

    name = "distill_output"

    def _embed(self, wav: torch.Tensor) -> torch.Tensor:
        h = self.teacher(wav)  # [B, L+1, T, D]
        return self.target_mix(h) if self.target_mix is not None else h[:, -1]

    def loss(self, noisy, clean, feats=None):
        est = self.model(noisy)
        sisdr = neg_si_sdr(est, clean)
        with torch.no_grad():
            target = self._embed(clean)
        l1 = l1_distance(target, self._embed(est))
        return sisdr + self.options["weight"] * l1, {"si_sdr": -sisdr.detach(), "l1": l1.detach()}
