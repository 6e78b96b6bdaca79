"""Adversarial distillation: match the distribution of teacher embeddings (paper, Sec. 2.3.2)."""
from __future__ import annotations

import torch
import torch.distributed as dist

from .. import stft
from ..losses import neg_si_sdr
from ..models.discriminator import BlockDiscriminator
from .base import TeacherMode


class Adversarial(TeacherMode):
    """Adversarial distillation (Sec. 2.3.2, eq. 3), least-squares GAN:

        L_E = -SISDR(f_e(X), Y) + lambda * || D(P(f_e^enc(X))) - 1 ||_2^2
        L_D = 1/2 || D(P(f_e^enc(X))) - 0 ||_2^2 + 1/2 || D(g_s(Y)) - 1 ||_2^2

    D: :class:`seslib.models.discriminator.BlockDiscriminator` (block scores over time),
    fed the projected GCRN bottleneck (fake) or the teacher's clean-speech embedding
    (real); squares averaged over blocks. Updates alternate: an enhancer step on L_E,
    then a discriminator step on L_D with the same batch (student embeddings detached).
    D has its own Adam (``d_lr``, betas 0.8/0.99 as HiFi-GAN), saved and restored with
    the checkpoint. ``weight`` is lambda (default 1.0; the paper does not give it).
    """

    name = "adversarial"
    defaults = {"weight": 1.0, "target_weights": None, "d_lr": 2.0e-4, "d_channels": [128, 128, 256, 256]}

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        self.proj = self.projection()
        self.disc = BlockDiscriminator(self.teacher_dim, tuple(self.options["d_channels"]))
        self._d_opt = torch.optim.Adam(self.disc.parameters(), lr=self.options["d_lr"], betas=(0.8, 0.99))
        self._cache = None

    @classmethod
    def streams(cls):
        return [f"clean_{cls.layers}"]

    def loss(self, noisy, clean, feats=None):
        emb, ctx = self.model.encode(noisy, return_context=True)
        sisdr = neg_si_sdr(self.model.decode(emb, ctx), clean)
        fake = self.proj(emb)
        real = stft.align_frames(self.target(feats, "clean"), fake.shape[1])
        adv = ((self.disc(fake) - 1) ** 2).mean()
        self._cache = (fake.detach(), real.detach())
        return sisdr + self.options["weight"] * adv, {"si_sdr": -sisdr.detach(), "adv": adv.detach()}

    def extra_optimizers(self):
        return {"discriminator": self._d_opt}

    def ddp_ignored(self) -> list[str]:
        """Names of the discriminator's parameters: DDP leaves them alone and
        :meth:`after_step` averages their gradients itself."""
        return [f"disc.{n}" for n, _ in self.disc.named_parameters()]

    def after_step(self):
        fake, real = self._cache
        self._cache = None
        d_loss = 0.5 * (self.disc(fake) ** 2).mean() + 0.5 * ((self.disc(real) - 1) ** 2).mean()
        self._d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        if dist.is_available() and dist.is_initialized():
            for p in self.disc.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= dist.get_world_size()
        self._d_opt.step()
        return {"d_loss": d_loss.detach()}


class AdversarialWS(Adversarial):
    """Adversarial distillation, weighted sum (Sec. 2.3.2): as :class:`Adversarial` with
    the real embeddings a fixed convex combination of every hidden state
    (``target_weights``, default uniform)."""

    name = "adversarial_ws"
    layers = "all"
