"""Encoder pre-training from the teacher's embeddings of clean speech (paper, Secs. 2.5 and 3.3)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import stft
from ..losses import l1_distance, l2_distance
from .base import TeacherMode


class PretrainEncoderL1(TeacherMode):
    """Encoder pre-training, L1 (Sec. 2.5, "Encoder Pre-training"):

        L = || g_s(Y) - P(f_e^enc(X)) ||_1

    The noisy spectrogram goes through the GCRN encoder (gated convolutions and grouped
    LSTM); P, the model's ``to_teacher`` linear map (``model.bridge``), takes the bottleneck
    to the teacher's width; the target g_s(Y) is the teacher's last layer on the *clean*
    speech. The norm is averaged over frames and dimensions. Only the encoder, the LSTM
    and P learn; the decoders are frozen (they are not on the loss's path). The saved
    encoder and P are the starting point of the decoder pre-training and fine-tuning.
    There is no enhanced output, so validation scores the same loss on the validation
    mixtures (higher is better: the negated loss).
    """

    name = "pretrain_enc_l1"
    defaults = {}
    learns = ("encoder", "lstm", "to_teacher")
    enhances = False

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        if model.to_teacher is None or model.to_teacher.out_features != self.teacher_dim:
            raise ValueError(f"mode {self.name} needs model.bridge = the teacher's width ({self.teacher_dim}), "
                             f"or 'teacher'")
        for name, p in model.named_parameters():
            p.requires_grad_(name.split(".", 1)[0] in self.learns)

    @classmethod
    def streams(cls):
        return ["clean_last"]

    def distance(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean L1 distance; ``[B, T, D], [B, T, D] -> []``."""
        return l1_distance(target, pred)

    def predict(self, noisy: torch.Tensor) -> torch.Tensor:
        """P(f_e^enc(X)): ``[B, N] -> [B, T, D]``."""
        return self.model.to_teacher(self.model.encode(noisy))

    def loss(self, noisy, clean, feats=None):
        pred = self.predict(noisy)
        d = self.distance(pred, stft.align_frames(feats["clean_last"], pred.shape[1]))
        return d, {self.name.rsplit("_", 1)[1]: d.detach()}

    @torch.no_grad()
    def valid_score(self, noisy, clean):
        pred = self.predict(noisy)
        return -self.distance(pred, stft.align_frames(self.teacher(clean)[:, -1], pred.shape[1])).item()

    valid_metric = "-loss"


class PretrainEncoderL2(PretrainEncoderL1):
    """Encoder pre-training, L2 (Sec. 2.5): L = || g_s(Y) - P(f_e^enc(X)) ||_2^2, the squared
    error averaged over frames and dimensions; otherwise as :class:`PretrainEncoderL1`."""

    name = "pretrain_enc_l2"

    def distance(self, pred, target):
        return l2_distance(target, pred)


class PretrainEncoderCos(PretrainEncoderL1):
    """Encoder pre-training, cosine (Sec. 2.5):

        L = mean_t ( 1 - cos( g_s(Y)_t, P(f_e^enc(X))_t ) )

    one cosine per frame, over the teacher's dimensions; otherwise as :class:`PretrainEncoderL1`."""

    name = "pretrain_enc_cos"

    def distance(self, pred, target):
        return (1 - F.cosine_similarity(pred, target, dim=-1)).mean()
