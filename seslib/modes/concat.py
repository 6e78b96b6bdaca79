"""Teacher features of the noisy input as an extra decoder input (paper, Sec. 2.2)."""
from __future__ import annotations

from ..losses import neg_si_sdr
from ..models.concat import ConcatGCRN
from .base import TeacherMode


class Concat(TeacherMode):
    """Feature concatenation (Sec. 2.2):

        L_E = -SISDR(f_e[X, g_s(X)], Y)

    g_s(X), the teacher's last layer on the noisy input, is concatenated after the GCRN
    bottleneck and projected back to its width (:class:`seslib.models.concat.ConcatGCRN`).
    The teacher is needed at inference, so the model fails the on-device constraint.
    """

    name = "concat"
    defaults = {}

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        self.enhancer = ConcatGCRN(model, teacher, self.teacher_dim, self.num_hidden, self.layers)

    @classmethod
    def streams(cls):
        return [f"noisy_{cls.layers}"]

    def loss(self, noisy, clean, feats=None):
        loss = neg_si_sdr(self.enhancer.forward_features(noisy, feats[f"noisy_{self.layers}"]), clean)
        out = {"si_sdr": -loss.detach()}
        if self.enhancer.mix is not None:
            out.update({f"w{i}": w for i, w in enumerate(self.enhancer.mix.weights().detach().unbind())})
        return loss, out

    def inference_model(self):
        return self.enhancer

    def inference_spec(self):
        return {"kind": "concat", "teacher": self.teacher.name, **self.enhancer.config}


class ConcatWS(Concat):
    """Feature concatenation, weighted sum (Sec. 2.2): as :class:`Concat` with
    g_s(X) = sum_l softmax(a)_l h_l(X) over every hidden state, the weights a learned."""

    name = "concat_ws"
    layers = "all"
