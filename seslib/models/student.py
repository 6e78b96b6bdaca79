"""A student with the teacher's own architecture (paper, Sec. 3.5, Figs. 4 and 5)."""
from __future__ import annotations

import torch
import torch.nn as nn


#: config fields of training-only noise, set to 0 in the student
NO_TRAINING_NOISE = ("layerdrop", "encoder_layerdrop", "mask_time_prob", "mask_feature_prob")


class TeacherShapedStudent(nn.Module):
    """The teacher's network (front end and transformer: for a Whisper teacher its log-mel
    front end, two convolutions and encoder layers; for Wav2Vec2 its convolutional feature
    encoder and transformer), with fresh random weights, to be trained to predict the
    teacher's last layer (:class:`seslib.modes.distill_student.DistillStudent`).

    Its frames are the teacher's frames (the same alignment code runs), so frame t of the
    student is frame t of the teacher and of the GCRN. A trained student is itself a teacher
    spec: ``Teacher("exp/student/best.pt")`` loads it frozen, e.g. to resynthesise speech
    from its embeddings (Fig. 5 (c)) or to compute its lag statistics (Fig. 4).

    The regularisers that transformers applies in training mode only (Wav2Vec2's LayerDrop
    and SpecAugment-style masking) are switched off: the student regresses the teacher's
    outputs for its whole input, layer by layer, as the teacher computes them.

    Args:
        teacher_spec: the teacher whose architecture is copied (any :mod:`seslib.teacher`
            spec; a ``random:`` prefix is ignored).
        seed: seed of the random initialisation.

    Shape:
        ``[B, N]`` -> ``[B, T, D]``, T the GCRN's frame count.
    """

    def __init__(self, teacher_spec: str, seed: int = 0):
        super().__init__()
        from ..teacher import architecture
        self.encoder, self.teacher_spec = architecture(teacher_spec, seed)
        self.dim = self.encoder.dim
        cfg = self.encoder.model.config
        for name in NO_TRAINING_NOISE:
            if getattr(cfg, name, 0):
                setattr(cfg, name, 0.0)
        mask = getattr(self.encoder.model, "masked_spec_embed", None)
        if mask is not None:
            mask.requires_grad_(False)  # the mask token: unused without masking

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.encoder(wav)[-1]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
