"""What exact resume restores besides weights: RNG states, the learning-rate schedule, seeds."""
from __future__ import annotations

import math
import random

import numpy as np
import torch


def lr_lambda(cfg: dict):
    """The learning-rate factor of a step under ``cfg["scheduler"]``: constant (the paper), or cosine
    down to ``min_factor`` at ``train.max_steps``."""
    sched, max_steps = cfg["scheduler"], cfg["train"]["max_steps"]
    if sched["name"] == "constant":
        return lambda s: 1.0
    if sched["name"] == "cosine":
        lo = float(sched.get("min_factor", 0.1))
        return lambda s: lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * min(s, max_steps) / max_steps))
    raise ValueError(f"unknown scheduler '{sched['name']}' (constant, cosine)")


def restore_lr(opt, sched) -> None:
    """Set each group's lr from the schedule at its restored step (a loaded optimizer keeps
    the lr of the run that saved it, which a changed schedule would not give)."""
    for g, lam, base in zip(opt.param_groups, sched.lr_lambdas, sched.base_lrs):
        g["lr"] = base * lam(sched.last_epoch)


def seed_everything(seed: int, threads: int = 0) -> None:
    """Seed torch, numpy and random; set torch's CPU threads when ``threads`` is given."""
    if threads:
        torch.set_num_threads(int(threads))
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def rng_state(device: torch.device | None = None) -> dict:
    """Every RNG state a resumed run needs (torch, numpy, random; CUDA on a GPU device)."""
    s = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device is not None and device.type == "cuda":  # random draws on the GPU (dropout, ...)
        s["cuda"] = torch.cuda.get_rng_state(device)
    return s


def set_rng_state(s: dict, device: torch.device | None = None) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(s["torch"])
    if "cuda" in s and device is not None and device.type == "cuda":
        torch.cuda.set_rng_state(s["cuda"], device)
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])
