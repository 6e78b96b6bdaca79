"""Offline pre-training of a small wav2vec 2.0 teacher, for machines with no hub access.

The objective is wav2vec 2.0's own (Baevski et al., 2020), as ``transformers``'
``Wav2Vec2ForPreTraining`` implements it: spans of the CNN features are masked
(``_compute_mask_indices``), the transformer's outputs at masked frames must pick the
quantised target among distractors drawn from other masked frames of the same utterance
(``_sample_negative_indices``; contrastive loss), and a diversity loss keeps the
codebooks in use; the Gumbel-softmax temperature decays from ``gumbel_max`` by
``gumbel_decay`` per step down to ``gumbel_min``. The loss is averaged over masked
frames. The logged codevector perplexity says how many code entries are in use.
One departure, ``train.codevector_init`` (default ``normal``): codevectors start
zero-mean, see :class:`TeacherPretrainer`.

Training data: random crops of the clean speech (``spk1.scp``) of a data dir, sampled
statelessly as the enhancer's are, so that a resumed run is exact. The result is saved
with ``save_pretrained`` (model + a ``Wav2Vec2FeatureExtractor`` with ``do_normalize``), so
the recipe loads it with :class:`seslib.teacher.Teacher` as it would load
``facebook/wav2vec2-base``.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import torch

from .. import audio
from ..checkpoint import config_changes, read_checkpoint, save_checkpoint, supersede
from .crops import CropSampler
from .state import restore_lr, rng_state, seed_everything, set_rng_state

log = logging.getLogger(__name__)

#: A small teacher (about 9 M parameters) with Wav2Vec2's feature-encoder geometry.
SMALL_MODEL = {
    "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024,
    "conv_dim": [256] * 7, "num_conv_pos_embeddings": 64, "num_conv_pos_embedding_groups": 16,
    "num_codevectors_per_group": 160, "num_codevector_groups": 2, "codevector_dim": 128,
    "proj_codevector_dim": 128, "num_negatives": 50, "mask_time_prob": 0.65, "mask_time_length": 10,
    "diversity_loss_weight": 0.1, "feat_extract_norm": "group", "do_stable_layer_norm": False,
    "hidden_dropout": 0.1, "attention_dropout": 0.1, "feat_proj_dropout": 0.0, "layerdrop": 0.0,
}

DEFAULTS = {
    "model": SMALL_MODEL,
    "train": {"batch_size": 8, "crop_seconds": 4.0, "max_steps": 2000, "lr": 5.0e-4, "warmup_steps": 200,
              "weight_decay": 0.01, "grad_clip": 10.0, "seed": 1, "log_every": 25, "ckpt_every": 250,
              "gumbel_max": 2.0, "gumbel_min": 0.5, "gumbel_decay": 0.999, "threads": 0,
              "codevector_init": "normal"},
}


def gumbel_temperature(step: int, cfg: dict) -> float:
    """max(gumbel_max * gumbel_decay ** step, gumbel_min) (wav2vec 2.0's schedule)."""
    t = cfg["train"]
    return max(t["gumbel_max"] * t["gumbel_decay"] ** step, t["gumbel_min"])


class TeacherPretrainer:
    """Pre-trains ``Wav2Vec2ForPreTraining``; see the module docstring.

    Args:
        cfg: ``{"model": Wav2Vec2Config kwargs, "train": {...}}`` (over :data:`DEFAULTS`).
        data_dir: data dir whose ``spk1.scp`` (clean speech) is the training data.
        out_dir: experiment dir: ``last.pt`` (resume), ``train.log``, and ``teacher/``
            (the ``save_pretrained`` result).
    """

    def __init__(self, cfg: dict, data_dir, out_dir):
        from transformers import Wav2Vec2Config, Wav2Vec2ForPreTraining
        self.cfg, self.out = cfg, Path(out_dir)
        tc = cfg["train"]
        seed_everything(tc["seed"], tc["threads"])
        self.model = Wav2Vec2ForPreTraining(Wav2Vec2Config(**cfg["model"]))
        if tc["codevector_init"] == "normal":
            # transformers (like fairseq) draws codevectors from U(0, 1): all in one orthant,
            # mean pairwise cosine ~0.75, so quantised targets barely differ and, at small
            # batch and short budgets, the contrastive loss sits at chance (ln(K + 1)) for
            # hundreds of steps. Zero-mean N(0, 1) codevectors start distinguishable.
            torch.nn.init.normal_(self.model.quantizer.codevectors)
        elif tc["codevector_init"] != "uniform":
            raise ValueError(f"train.codevector_init must be 'normal' or 'uniform', not '{tc['codevector_init']}'")
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=tc["lr"], weight_decay=tc["weight_decay"])
        warm = max(1, tc["warmup_steps"])
        total = tc["max_steps"]
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        self.sampler = CropSampler(data_dir, int(tc["crop_seconds"] * audio.SAMPLE_RATE), tc["batch_size"],
                                   tc["seed"], scps=("spk1.scp",))
        self.step = 0

    def _log(self, msg: str) -> None:
        log.info(msg)
        with open(self.out / "train.log", "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}\n")

    def _save(self) -> None:
        save_checkpoint(self.out / "last.pt", {
            "format": "seslib-teacher-pretrain-1", "config": self.cfg, "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict(), "step": self.step,
            "rng": rng_state()})

    def loss(self, wav: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """wav2vec 2.0 loss of a ``[B, N]`` batch, averaged over masked frames."""
        from transformers.models.wav2vec2.modeling_wav2vec2 import (_compute_mask_indices,
                                                                    _sample_negative_indices)
        mc = self.model.config
        x = (wav - wav.mean(-1, keepdim=True)) / torch.sqrt(wav.var(-1, unbiased=False, keepdim=True) + 1e-7)
        B = x.shape[0]
        T = int(self.model._get_feat_extract_output_lengths(x.shape[1]))
        mask = _compute_mask_indices((B, T), mask_prob=mc.mask_time_prob, mask_length=mc.mask_time_length,
                                     min_masks=2)
        neg = _sample_negative_indices((B, T), mc.num_negatives, mask_time_indices=mask)
        out = self.model(x, mask_time_indices=torch.from_numpy(mask),
                         sampled_negative_indices=torch.from_numpy(neg))
        n = float(mask.sum())
        logs = {"contrastive": out.contrastive_loss.item() / n, "diversity": out.diversity_loss.item() / n,
                "perplexity": out.codevector_perplexity.item()}
        return out.loss / n, logs

    def train(self, stop_at: int | None = None) -> dict:
        """Train to ``max_steps`` (resuming from ``last.pt``), then ``save_pretrained``.
        ``stop_at`` ends early after that step's checkpoint (as an interruption would)."""
        from transformers import Wav2Vec2FeatureExtractor
        tc = self.cfg["train"]
        self.out.mkdir(parents=True, exist_ok=True)
        ck = read_checkpoint(self.out / "last.pt") if (self.out / "last.pt").is_file() else None
        unsafe = config_changes(ck.get("config") or {}, self.cfg, ck["step"], DEFAULTS)[1] if ck else []
        if unsafe:  # trained by another config: restart, so that the teacher is the one its config says
            keep = supersede(self.out, ("last.pt", "train.log"))
            self._log(f"restarting from step 0: last.pt (step {ck['step']}) was trained with another config "
                      f"({'; '.join(unsafe)}); its files are kept in {keep}")
            ck = None
        if ck:
            self.model.load_state_dict(ck["model"])
            self.opt.load_state_dict(ck["optimizer"])
            self.sched.load_state_dict(ck["scheduler"])
            restore_lr(self.opt, self.sched)
            self.step = ck["step"]
            set_rng_state(ck["rng"])
            self._log(f"resumed at step {self.step}")
        else:
            n = sum(p.numel() for p in self.model.wav2vec2.parameters())
            self._log(f"pre-training a wav2vec 2.0 teacher: {n:,} parameters (without the quantiser), "
                      f"{len(self.sampler.utts)} utterances of clean speech")
        self.model.train()
        acc, acc_n, t0 = {}, 0, time.time()
        while self.step < tc["max_steps"]:
            self.model.set_gumbel_temperature(gumbel_temperature(self.step, self.cfg))
            (wav,) = self.sampler.batch(self.step)
            loss, logs = self.loss(wav)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc["grad_clip"])
            self.opt.step()
            self.sched.step()
            self.step += 1
            for k, v in dict(logs, loss=loss.item()).items():
                acc[k] = acc.get(k, 0.0) + v
            acc_n += 1
            if self.step % tc["log_every"] == 0 or self.step == tc["max_steps"]:
                self._log(f"step {self.step}/{tc['max_steps']} " + " ".join(f"{k} {v / acc_n:.3f}" for k, v in acc.items())
                          + f" gumbel {gumbel_temperature(self.step, self.cfg):.3f} "
                          f"{acc_n / (time.time() - t0):.2f} steps/s")
                acc, acc_n, t0 = {}, 0, time.time()
            if self.step % tc["ckpt_every"] == 0 or self.step == tc["max_steps"]:
                self._save()
            if stop_at is not None and self.step >= stop_at:
                self._save()
                return {"step": self.step, "teacher": None}
        dest = self.out / "teacher"
        self.model.wav2vec2.save_pretrained(dest)
        Wav2Vec2FeatureExtractor(do_normalize=True, sampling_rate=audio.SAMPLE_RATE).save_pretrained(dest)
        (dest / "seslib_pretraining.json").write_text(json.dumps({"steps": self.step, "config": self.cfg}, indent=1))
        self._log(f"saved the teacher to {dest}")
        return {"step": self.step, "teacher": str(dest)}
