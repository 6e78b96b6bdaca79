"""The mode interface, the base mode, and the common part of the teacher modes."""
from __future__ import annotations

import torch
import torch.nn as nn

from ..losses import neg_si_sdr
from ..models.layer_mix import LayerMix


class Mode(nn.Module):
    """Interface of a training mode.

    Args:
        model: the enhancer being trained (a GCRN).
        options: the mode's options from the config (``mode_options``); keys not in the
            class's ``defaults`` are an error.
        teacher: the frozen :class:`seslib.teacher.Teacher` (``layers="all"``) for modes
            with ``uses_teacher``; kept outside the mode's parameters and state dict.
    """

    name = "mode"
    uses_teacher = False
    enhances = True  # False: the trained model produces no enhanced speech (encoder pre-training)
    defaults: dict = {}

    def __init__(self, model: nn.Module, options: dict | None = None, teacher=None):
        super().__init__()
        self.model = model
        bad = set(options or {}) - set(self.defaults)
        if bad:
            raise ValueError(f"mode {self.name}: unknown mode_options {sorted(bad)}; known: {sorted(self.defaults)}")
        self.options = {**self.defaults, **(options or {})}
        if self.uses_teacher and teacher is None:
            raise ValueError(f"mode {self.name} needs a teacher: set teacher.spec (a seslib.teacher spec: whisper-tiny.en, a hub id, a directory, random:<spec>)")
        self.__dict__["teacher"] = teacher

    @classmethod
    def streams(cls) -> list[str]:
        """Teacher feature streams the loss reads (``clean_last``, ``noisy_all``, ...): a property of
        the mode, known before a model is built (stage 2 dumps only the streams its systems read)."""
        return []

    def loss(self, noisy: torch.Tensor, clean: torch.Tensor, feats: dict | None = None) -> tuple[torch.Tensor, dict]:
        """Return the loss to minimise and a dict of detached scalar tensors to log (read on the host
        only when the trainer logs, so that a step on a GPU does not wait for them)."""
        raise NotImplementedError

    def forward(self, noisy: torch.Tensor, clean: torch.Tensor, feats: dict | None = None):
        """``loss``, so that a DistributedDataParallel wrapper of the mode syncs gradients."""
        return self.loss(noisy, clean, feats or {})

    def extra_optimizers(self) -> dict:
        """Optimisers the mode steps itself (e.g. a discriminator's); saved on checkpoint."""
        return {}

    def after_step(self) -> dict:
        """An update of the mode's own (e.g. the discriminator's), run after each enhancer
        step; returns detached scalar tensors (or floats) to log."""
        return {}

    def inference_model(self) -> nn.Module:
        """The module that enhances at test time (validated and saved as the model)."""
        return self.model

    def inference_spec(self) -> dict | None:
        """What, besides the GCRN config, rebuilds :meth:`inference_model` (None: a GCRN)."""
        return None


class Base(Mode):
    """Baseline (paper, Sec. 2.1, eq. 1):

        L_E = -SISDR(f_e(X), Y)
    """

    name = "base"

    def loss(self, noisy, clean, feats=None):
        est = self.model(noisy)
        loss = neg_si_sdr(est, clean)
        return loss, {"si_sdr": -loss.detach()}


class TeacherMode(Mode):
    """Common part of the modes that use the teacher g_s.

    ``layers`` (class attribute) is ``"last"`` (last transformer layer) or ``"all"`` (the
    ``_ws`` variants: a convex combination of every hidden state). Distillation targets
    combine the layers with *fixed* weights, option ``target_weights`` (default uniform):
    weights learned together with the student would let it choose the easiest layer.
    """

    uses_teacher = True
    layers = "last"
    defaults = {"weight": 1.0, "target_weights": None}

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        self.teacher_dim, self.num_hidden = teacher.dim, teacher.num_hidden
        self.target_mix = None
        if self.layers == "all" and "target_weights" in self.defaults:
            self.target_mix = LayerMix(self.num_hidden, learn=False, weights=self.options["target_weights"])

    def target(self, feats: dict, kind: str) -> torch.Tensor:
        """g_s of ``kind`` (``clean``/``noisy``) as a ``[B, T, D]`` sequence."""
        h = feats[f"{kind}_{self.layers}"]
        return self.target_mix(h) if self.target_mix is not None else h

    def projection(self) -> nn.Linear:
        """P: the GCRN bottleneck to the teacher's width."""
        return nn.Linear(self.model.embed_dim, self.teacher_dim)
