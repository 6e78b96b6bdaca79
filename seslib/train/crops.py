"""Stateless batches of random crops of a data dir's static mixtures (the trainer's sampler when
mixing is not dynamic; :class:`seslib.dynamic_mix.DynamicMixer` has the same interface)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import audio
from ..data import read_kv


class CropSampler:
    """Stateless batches of random crops from a data dir.

    Args:
        data_dir: a data dir with the scps named in ``scps`` and ``utt2num_samples``.
        crop: crop length in samples (shorter utterances are zero-padded).
        batch_size: global batch size (split over processes).
        seed: the data order is a function of this seed and the step.
        scps: which audio of each utterance to crop, at the same offset (default: noisy, clean).
        align: crop offsets are multiples of this (the teacher's hop, for dumped features).
    """

    def __init__(self, data_dir, crop: int, batch_size: int, seed: int, scps=("wav.scp", "spk1.scp"),
                 align: int = 1):
        d = Path(data_dir)
        self.tables = [read_kv(d / name) for name in scps]
        self.lengths = {k: int(v) for k, v in read_kv(d / "utt2num_samples").items()}
        self.utts = sorted(self.tables[0])
        if len(self.utts) < batch_size:
            raise ValueError(f"{d}: {len(self.utts)} utterances, fewer than the batch size {batch_size}")
        self.crop, self.batch_size, self.seed, self.align = crop, batch_size, seed, align
        self.steps_per_epoch = len(self.utts) // batch_size

    def describe(self) -> str:
        """One line for the training log."""
        return f"{len(self.utts)} training utterances (static mixtures)"

    def indices(self, step: int) -> tuple[int, list[int]]:
        """Epoch and utterance indices of the (0-based) ``step``."""
        epoch, k = divmod(step, self.steps_per_epoch)
        perm = np.random.default_rng([self.seed, epoch]).permutation(len(self.utts))
        return epoch, perm[k * self.batch_size:(k + 1) * self.batch_size].tolist()

    def plan(self, step: int, rank: int = 0, world: int = 1) -> list[tuple[str, int]]:
        """``(utterance, crop offset)`` of this process's share of the batch of ``step``."""
        epoch, idx = self.indices(step)
        out = []
        for i in idx[rank::world]:
            utt = self.utts[i]
            slots = max(1, (self.lengths[utt] - self.crop) // self.align + 1)
            out.append((utt, self.align * int(np.random.default_rng([self.seed, epoch, i]).integers(0, slots))))
        return out

    def batch(self, step: int, rank: int = 0, world: int = 1) -> tuple[torch.Tensor, ...]:
        """This process's share of the batch of ``step``: one ``[b, crop]`` tensor per scp."""
        return self.read(self.plan(step, rank, world))

    def read(self, plan: list[tuple[str, int]]) -> tuple[torch.Tensor, ...]:
        """The crops of ``plan`` (see :meth:`plan`): one ``[b, crop]`` tensor per scp."""
        out = [[] for _ in self.tables]
        for utt, off in plan:
            stop = min(self.lengths[utt], off + self.crop)
            for table, acc in zip(self.tables, out):
                x = audio.read_audio(table[utt], utt=utt, start=off, stop=stop)
                acc.append(np.pad(x, (0, self.crop - len(x))))
        return tuple(torch.from_numpy(np.stack(a)) for a in out)
