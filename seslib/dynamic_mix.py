"""Dynamic mixing: every training step mixes new clean/noise pairs on the fly.

A static training set pairs each utterance with one noise segment at one SNR for the
whole run. :class:`DynamicMixer` instead draws, for every item of every step, a speech
segment, a noise segment, an SNR (uniform in ``snr``) and a level (uniform in ``level``),
applies the configured augmentation (:mod:`seslib.augment`), and mixes with the same code
as stage 1 (:func:`seslib.audio.mix_gains`, :func:`seslib.audio.mix_at_snr`: the SNR of
``snr_definition``, global or active, level normalisation, clipping protection, 16-bit quantisation with
``noisy == speech + noise``).

Sources come from the training data dir itself, so any corpus works unchanged: the clean
segments and noise files named in its ``mix_plan.jsonl`` (stage 1 writes it), or, for a dir
without a plan, its ``spk1.scp`` and ``noise1.scp``. A pre-mixed corpus without separate
noise cannot be mixed dynamically, and the error says so.

Determinism: item ``j`` of step ``s`` uses only ``numpy.random.default_rng([seed, 7, s, j])``,
so a batch is a function of the seed and the step, every process of a data-parallel run
makes its own share without communication, and a resumed run sees exactly the batches an
uninterrupted one sees.
"""
from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np
import torch

from . import audio
from .augment import Augmenter, enabled, speed_perturb
from .data import PLAN_FILE, DataDirError, read_kv, read_plan

log = logging.getLogger(__name__)

DEFAULTS = {"dynamic_mixing": False, "snr": [-5.0, 5.0], "snr_definition": "global", "level": [-35.0, -15.0],
            "exclude": []}  # regexes: speech and noise files whose path matches one are left out
_TRIES = 20  # redraws when a crop of speech (or noise) has no active segment


def mixing_sources(data_dir, exclude=()) -> tuple[list[tuple[str, int, int]], list[str]]:
    """Speech segments ``(path, start, length)`` and noise files of a training data dir.

    Args:
        exclude: regular expressions; a speech or noise file whose path matches one is left out
            (e.g. train on part of a corpus's sources without building another corpus).

    Raises:
        DataDirError: when the dir names no separate noise (a pre-mixed corpus), or nothing is left.
    """
    speech, noise = _all_sources(Path(data_dir))
    if exclude:
        drop = re.compile("|".join(f"(?:{x})" for x in exclude))
        speech = [s for s in speech if not drop.search(s[0])]
        noise = [n for n in noise if not drop.search(n)]
        if not speech or not noise:
            raise DataDirError(f"{data_dir}: data.exclude {list(exclude)} leaves no "
                               f"{'speech' if not speech else 'noise'} to mix")
    return speech, noise


def _all_sources(d: Path) -> tuple[list[tuple[str, int, int]], list[str]]:
    if (d / PLAN_FILE).is_file():
        plan = read_plan(d / PLAN_FILE).values()
        speech = sorted({(e["clean_path"], int(e["clean_offset"]), int(e["num_samples"])) for e in plan})
        noise = sorted({e["noise_path"] for e in plan})
        return speech, noise
    if (d / "spk1.scp").is_file() and (d / "noise1.scp").is_file():
        lengths = {k: int(v) for k, v in read_kv(d / "utt2num_samples").items()}
        speech = sorted((p, 0, lengths[u]) for u, p in read_kv(d / "spk1.scp").items())
        return speech, sorted(set(read_kv(d / "noise1.scp").values()))
    raise DataDirError(f"{d}: dynamic mixing needs separate speech and noise (a {PLAN_FILE} from stage 1, or "
                       "spk1.scp and noise1.scp); this dir has neither, so it is pre-mixed: train with "
                       "data.dynamic_mixing: false")


def _read_wrapped(path: str, length: int, start: int, n: int) -> np.ndarray:
    """``n`` samples of a file of ``length`` samples (at 16 kHz) from ``start``, wrapping around its end."""
    out, pos = [], start % length
    while n > 0:
        k = min(n, length - pos)
        out.append(audio.read_audio(path, start=pos, stop=pos + k, utt=f"noise {Path(path).stem}"))
        n -= k
        pos = 0
    return np.concatenate(out)


class DynamicMixer:
    """Batches of mixtures made on the fly; the same interface as :class:`seslib.train.crops.CropSampler`.

    Args:
        data_dir: training data dir (see :func:`mixing_sources`).
        crop: crop length in samples.
        batch_size: global batch size (split over processes).
        seed: the batches are a function of this seed and the step.
        snr: ``(lo, hi)`` dB, uniform.
        snr_definition: how the SNR is measured (:data:`seslib.audio.SNR_DEFINITIONS`).
        level: ``(lo, hi)`` dBFS target mixture level, uniform.
        augment: augmentation config (:data:`seslib.augment.DEFAULTS`-shaped) or None.
        align: speech crop offsets are multiples of this.
        exclude: path patterns of sources left out (:func:`mixing_sources`).
    """

    def __init__(self, data_dir, crop: int, batch_size: int, seed: int, snr=(-5.0, 5.0), level=(-35.0, -15.0),
                 augment: dict | None = None, align: int = 1, exclude=(), snr_definition: str = "global"):
        self.speech, self.noise = mixing_sources(data_dir, exclude)
        # lengths at 16 kHz (read_audio resamples other rates; positions count at 16 kHz)
        self.noise_len = {p: audio.num_samples_at(*audio.audio_info(p, utt=f"noise {Path(p).stem}"))
                          for p in self.noise}
        self.crop, self.batch_size, self.seed, self.align = crop, batch_size, seed, align
        self.snr, self.level = tuple(snr), tuple(level)
        if snr_definition not in audio.SNR_DEFINITIONS:
            raise ValueError(f"data.snr_definition '{snr_definition}': expected one of "
                             f"{', '.join(audio.SNR_DEFINITIONS)}")
        self.snr_definition = snr_definition
        self.augmenter = Augmenter(augment)

    def describe(self) -> str:
        """One line for the training log: sources, SNR and level ranges, augmentations."""
        on = enabled(self.augmenter.cfg)
        return (f"dynamic mixing of {len(self.speech)} speech segments and {len(self.noise)} noise files, "
                f"SNR ({self.snr_definition}) {self.snr[0]:g}..{self.snr[1]:g} dB, level {self.level[0]:g}..{self.level[1]:g} dBFS; "
                f"augmentation: {', '.join(on) if on else 'none'}")

    def plan(self, step: int, rank: int = 0, world: int = 1) -> list[tuple[int, int]]:
        """``(step, item index)`` of this process's share of the batch of ``step``."""
        return [(step, j) for j in range(self.batch_size)[rank::world]]

    def batch(self, step: int, rank: int = 0, world: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        return self.read(self.plan(step, rank, world))

    def read(self, plan) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixtures of ``plan``: ``(noisy [b, crop], clean target [b, crop])``."""
        pairs = [self.item(step, j) for step, j in plan]
        return tuple(torch.from_numpy(np.stack(a)) for a in zip(*pairs))

    def _noise(self, rng) -> np.ndarray:
        p = self.noise[int(rng.integers(len(self.noise)))]
        return _read_wrapped(p, self.noise_len[p], int(rng.integers(self.noise_len[p])), self.crop)

    def _speech(self, rng) -> np.ndarray:
        speed = self.augmenter.draw_speed(rng)
        path, start, length = self.speech[int(rng.integers(len(self.speech)))]
        need = math.ceil(self.crop * speed) + 1
        slots = max(1, (length - need) // self.align + 1)
        off = self.align * int(rng.integers(slots))
        x = audio.read_audio(path, start=start + off, stop=start + min(length, off + need), utt=Path(path).stem)
        if speed != 1.0:
            return speed_perturb(x, speed, self.crop)
        return np.pad(x[: self.crop], (0, max(0, self.crop - len(x))))

    def item(self, step: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Mixture ``j`` of step ``step``: ``(noisy, target)``, float32 ``[crop]`` each,
        values of 16-bit samples as read from a file."""
        rng = np.random.default_rng([self.seed, 7, step, j])
        for _ in range(_TRIES):
            mix_speech, target = self.augmenter.speech(self._speech(rng), rng)
            noise = self.augmenter.noise(self._noise(rng), rng, second=lambda: self._noise(rng))
            if not all(np.isfinite(a).all() for a in (mix_speech, target, noise)):
                raise DataDirError(f"step {step} item {j}: augmentation gave non-finite samples "
                                   f"(augment config: {self.augmenter.cfg})")
            snr, level = float(rng.uniform(*self.snr)), float(rng.uniform(*self.level))
            try:
                gc, gn = audio.mix_gains(mix_speech, noise, snr, level, snr_definition=self.snr_definition)
            except ValueError:  # this crop of speech or noise is silent: draw again
                continue
            _, _, noisy = audio.mix_at_snr(mix_speech, noise, gc, gn)
            return noisy.astype(np.float32) / 32768.0, audio.to_int16(target * gc).astype(np.float32) / 32768.0
        raise DataDirError(f"step {step} item {j}: {_TRIES} draws of speech and noise were all silent; "
                           "check the training sources")
