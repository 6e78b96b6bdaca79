"""Distilling the teacher into a network of its own shape (paper, Sec. 3.5)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import stft
from ..engine import float32
from ..models.student import TeacherShapedStudent
from .base import TeacherMode


@float32
def l1_cosine(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean |target - pred|, mean over frames of 1 - cos(target_t, pred_t)); ``[B, T, D]`` each."""
    return (target - pred).abs().mean(), (1 - F.cosine_similarity(pred, target, dim=-1)).mean()


class DistillStudent(TeacherMode):
    """A teacher-shaped student distilled from the teacher (Sec. 3.5, "a convolution-transformer
    stack identical to the Wav2Vec2 model ... to predict the embeddings using a mix of L1 and
    cosine loss"):

        L = || g_s(Y) - h(Y) ||_1 + mean_t ( 1 - cos( g_s(Y)_t, h(Y)_t ) )

    h is :class:`seslib.models.student.TeacherShapedStudent` (the teacher's architecture,
    random initial weights), g_s the frozen teacher's last layer; both read the *clean*
    training speech, as the teacher's embeddings of clean speech are what the paper's
    student imitates. The L1 term is averaged over frames and dimensions; the weight of the
    cosine term is option ``cos_weight`` (1, the paper's unweighted "mix"); option ``seed``
    (1) seeds the student's initial weights, so that it does not start as the teacher's
    random twin (``random:<spec>``, seed 0). The GCRN that
    the trainer builds is not used (none of its parameters learn). Validation scores the
    negated loss on the clean validation speech; the checkpoint's model is the student,
    which is a teacher spec in its own right (``Teacher("exp/student/best.pt")``).
    """

    name = "distill_student"
    defaults = {"cos_weight": 1.0, "seed": 1}
    enhances = False
    valid_metric = "-loss"

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        for p in model.parameters():
            p.requires_grad_(False)
        self.student = TeacherShapedStudent(teacher.name, seed=int(self.options["seed"]))

    @classmethod
    def streams(cls):
        return ["clean_last"]

    def distance(self, pred, target):
        l1, cos = l1_cosine(pred, stft.align_frames(target, pred.shape[1]))
        return l1 + self.options["cos_weight"] * cos, {"l1": l1.detach(), "cos": cos.detach()}

    def loss(self, noisy, clean, feats=None):
        return self.distance(self.student(clean), feats["clean_last"])

    @torch.no_grad()
    def valid_score(self, noisy, clean):
        return -self.distance(self.student(clean), self.teacher(clean)[:, -1])[0].item()

    def inference_model(self):
        return self.student

    def inference_spec(self):
        return {"kind": "student", "teacher": self.teacher.name}
