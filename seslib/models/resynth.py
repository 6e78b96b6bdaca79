"""Speech resynthesised from a teacher's embeddings by a GCRN decoder (paper, Sec. 2.5, Fig. 5)."""
from __future__ import annotations

import torch
import torch.nn as nn

from .gcrn import GCRN


class TeacherResynth(nn.Module):
    """x -> f_e^dec(M(g_s(x))): the decoder pre-trained on the teacher's embeddings
    (:class:`seslib.modes.pretrain_decoder.PretrainDecoderTeacher`) run on the teacher's last
    layer of its input. Given clean speech it resynthesises it (reading (i) of Table 2);
    given noisy speech it enhances through the teacher. The teacher runs on the whole
    utterance, so this is not an on-device model.

    The teacher is frozen and kept outside the module's parameters and state dict.

    Args:
        gcrn: a GCRN with ``bridge`` (``from_teacher``) and skips ``duplicate`` or ``upsample``.
        teacher: a :class:`seslib.teacher.Teacher` (``layers="all"``), or None when only the
            weights are needed (set ``.teacher`` before calling).

    Shape:
        ``[B, N] -> [B, N]``
    """

    def __init__(self, gcrn: GCRN, teacher):
        super().__init__()
        self.model = gcrn
        self.__dict__["teacher"] = teacher

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.teacher is None:
            raise RuntimeError("TeacherResynth has no teacher loaded")
        with torch.no_grad():
            g = self.teacher(x)[:, -1]  # [B, T, D]
        return self.model.decode_teacher(g, x.shape[-1])

    def num_parameters(self) -> int:
        """Trainable parameters of the decoder path (map M, decoders, output layers), without the teacher."""
        return sum(p.numel() for n, p in self.model.named_parameters()
                   if n.split(".", 1)[0] in ("from_teacher", "decoders", "out"))
