"""The base mode: the GCRN trained alone with negative SI-SDR."""
from __future__ import annotations

import torch
import torch.nn as nn

from ..losses import neg_si_sdr


class Mode(nn.Module):
    """Interface of a training mode.

    Args:
        model: the enhancer being trained.
        options: the mode's options from the config (``mode_options``).
    """

    name = "mode"

    def __init__(self, model: nn.Module, options: dict | None = None):
        super().__init__()
        self.model = model
        self.options = dict(options or {})

    def loss(self, noisy: torch.Tensor, clean: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Return the loss to minimise and a dict of floats to log."""
        raise NotImplementedError

    def forward(self, noisy: torch.Tensor, clean: torch.Tensor):
        """``loss``, so that a DistributedDataParallel wrapper of the mode syncs gradients."""
        return self.loss(noisy, clean)

    def extra_optimizers(self) -> dict:
        """Optimisers the mode steps itself (e.g. a discriminator's); saved on checkpoint."""
        return {}


class Base(Mode):
    """Baseline (paper, Sec. 2.1, eq. 1):

        L_E = -SISDR(f_e(X), Y)
    """

    name = "base"

    def loss(self, noisy, clean):
        est = self.model(noisy)
        loss = neg_si_sdr(est, clean)
        return loss, {"si_sdr": -loss.item()}
