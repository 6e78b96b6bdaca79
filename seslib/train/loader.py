"""Training batches from ``torch.utils.data.DataLoader`` worker processes.

The batch of step ``s`` is a pure function of the seed and ``s`` (:class:`seslib.train.crops.CropSampler`,
:class:`seslib.dynamic_mix.DynamicMixer`: every item draws from its own generator seeded with the
step and its index), so the loader's items are steps: item ``s`` is this process's share of the
batch of step ``s``, read, mixed and augmented in a worker, with its dumped teacher features.
Batches therefore do not depend on the number of workers, and a resumed run asks for the steps
after its checkpoint. The loader draws its workers' seeds from a generator of its own, so the
training process's RNG (saved in checkpoints for exact resume) is not touched.
"""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset


class StepBatches(Dataset):
    """Item ``s``: ``(s, plan, noisy [b, crop], clean [b, crop], dumped features {stream: tensor})``.

    Args:
        sampler: a CropSampler or DynamicMixer (``plan(step, rank, world)``, ``read(plan)``, ``crop``).
        rank, world: this process and the number of processes (the batch is split over them).
        features: a :class:`seslib.features.DumpedFeatures` to read the batch's features from, or None.
        streams: the feature streams the mode reads.
    """

    def __init__(self, sampler, rank: int = 0, world: int = 1, features=None, streams=()):
        self.sampler, self.rank, self.world = sampler, rank, world
        self.features, self.streams = features, list(streams)

    def __len__(self) -> int:
        return 1 << 62  # steps are asked for by the loader's sampler (a range)

    def __getitem__(self, step: int):
        plan = self.sampler.plan(step, self.rank, self.world)
        noisy, clean = self.sampler.read(plan)
        feats = self.features.batch(self.streams, plan, self.sampler.crop) if self.features is not None else {}
        return step, plan, noisy, clean, feats


def step_loader(batches: StepBatches, start: int, stop: int, num_workers: int = 0,
                pin_memory: bool = False) -> DataLoader:
    """The batches of steps ``start .. stop - 1`` in order, prepared by ``num_workers`` processes
    (0: in this process), pinned for a fast copy to a GPU when ``pin_memory``."""
    return DataLoader(batches, batch_size=None, sampler=range(start, stop), num_workers=num_workers,
                      pin_memory=pin_memory, prefetch_factor=2 if num_workers else None,
                      generator=torch.Generator().manual_seed(0))
