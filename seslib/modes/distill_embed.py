"""L1 distillation of the teacher into the GCRN bottleneck (paper, Sec. 2.3.1)."""
from __future__ import annotations

from .. import stft
from ..losses import l1_distance, neg_si_sdr
from .base import TeacherMode


class DistillEmbed(TeacherMode):
    """Embedding distillation (Sec. 2.3.1, eq. 2):

        L_E = -SISDR(f_e(X), Y) + lambda * || g_s(Y) - P(f_e^enc(X)) ||_1

    g_s(Y): the teacher's last layer on the clean speech; f_e^enc(X): the GCRN bottleneck
    (grouped-LSTM output) on the noisy input; P: a linear projection to the teacher's
    width, dropped after training. The L1 norm is averaged over frames and dimensions.
    ``weight`` is lambda (default 1.0; the paper does not give it).
    """

    name = "distill_embed"

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        self.proj = self.projection()

    @classmethod
    def streams(cls):
        return [f"clean_{cls.layers}"]

    def loss(self, noisy, clean, feats=None):
        emb, ctx = self.model.encode(noisy, return_context=True)
        sisdr = neg_si_sdr(self.model.decode(emb, ctx), clean)
        target = stft.align_frames(self.target(feats, "clean"), emb.shape[1])
        l1 = l1_distance(target, self.proj(emb))
        return sisdr + self.options["weight"] * l1, {"si_sdr": -sisdr.detach(), "l1": l1.detach()}


class DistillEmbedWS(DistillEmbed):
    """Embedding distillation, weighted sum (Sec. 2.3.1): as :class:`DistillEmbed` with
    g_s(Y) = sum_l w_l h_l(Y), fixed weights w (``target_weights``, default uniform)."""

    name = "distill_embed_ws"
    layers = "all"
