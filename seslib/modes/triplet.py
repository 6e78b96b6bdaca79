"""Triplet-loss distillation (paper, Sec. 2.3.3)."""
from __future__ import annotations

import torch

from .. import stft
from ..losses import neg_si_sdr
from .base import TeacherMode


class Triplet(TeacherMode):
    """Triplet distillation (Sec. 2.3.3, eq. 4):

        L_E = -SISDR(f_e(X), Y) + lambda * L_T
        L_T = max(||a - p|| - ||a - n|| + m, 0)

    a = P(f_e^enc(X)) (projected GCRN bottleneck), p = g_s(Y) (teacher on clean speech),
    n = g_s(X) (teacher on the noisy input); Euclidean distances per frame, L_T averaged
    over frames. ``active``, logged, is the fraction of frames whose hinge is active
    (d_ap - d_an + m > 0): where it is 1, L_T is d_ap - d_an + m, and the margin is only a
    constant. ``margin`` m = 2, not the paper's 100. With the Whisper tiny.en teacher the
    per-frame distance |g_s(Y) - g_s(X)| has median 13.5 (quartiles 10.1 / 17.9, 11,548 frames of
    40 mini training utterances, 2026-12-06; 13.9, quartiles 9.6 / 18.4, on the whole-signal-SNR
    corpus of 2026-12-07: ``python -m seslib.bin.triplet_margin``), so were a = p, where
    d_an = |p - n|, m = 13.5 would switch off about half of the hinges and m = 100 none. Training
    never gets there: the anchor drifts away from both (default run of 2026-12-07, AMD EPYC, m = 13.5:
    d_ap 26 at step 50, 122 at step 600, d_an 2.1-2.5 above it from step 100 on) and ``active``
    stayed 1.000, where the gradient of L_T does not depend on m (m = 13.5 trained exactly as
    m = 100 would). m = 2, just below that logged gap, is the margin at which the hinge can switch
    off in training (RESULTS.md, "The recipe's readings of the paper, measured", reports the
    fraction it leaves active).
    ``weight`` lambda = 0.01 (ours: the paper gives none).
    """

    name = "triplet"
    defaults = {"weight": 0.01, "margin": 2.0, "target_weights": None}

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        self.proj = self.projection()

    @classmethod
    def streams(cls):
        return [f"clean_{cls.layers}", f"noisy_{cls.layers}"]

    def loss(self, noisy, clean, feats=None):
        emb, ctx = self.model.encode(noisy, return_context=True)
        sisdr = neg_si_sdr(self.model.decode(emb, ctx), clean)
        a = self.proj(emb)
        p = stft.align_frames(self.target(feats, "clean"), a.shape[1])
        n = stft.align_frames(self.target(feats, "noisy"), a.shape[1])
        d_ap, d_an = (a - p).norm(dim=-1), (a - n).norm(dim=-1)
        hinge = d_ap - d_an + self.options["margin"]
        lt = torch.relu(hinge).mean()
        return sisdr + self.options["weight"] * lt, {"si_sdr": -sisdr.detach(), "triplet": lt.detach(),
                                                     "d_ap": d_ap.mean().detach(), "d_an": d_an.mean().detach(),
                                                     "active": (hinge > 0).float().mean().detach()}


class TripletWS(Triplet):
    """Triplet distillation, weighted sum (Sec. 2.3.3): as :class:`Triplet` with p and n
    fixed convex combinations of every hidden state (``target_weights``, default uniform)."""

    name = "triplet_ws"
    layers = "all"
