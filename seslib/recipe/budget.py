"""Training budgets that count every optimiser step behind a model, pre-training included.

A fine-tuned model of Table 3 has seen the steps of its encoder's pre-training, its decoder's
pre-training and its own fine-tuning; comparing it with a Base trained for its own steps alone
compares budgets, not methods. :func:`chain` follows a system's ``init`` (and a teacher its
config fixes to another system's checkpoint) back to the systems trained from scratch, and
:func:`total` adds their steps and audio; the planner trains a Base of the same total
(``base_steps<N>``, :func:`matched_base`) and the report reads the same numbers from the
checkpoints.
"""
from __future__ import annotations

from typing import Callable

from .systems import init_systems


def chain(system: str, config_of: Callable[[str], dict]) -> list[tuple[str, int, float]]:
    """Every system whose training a model of ``system`` carries, each once, dependencies first.

    Args:
        system: the system's name (``exp/<system>``).
        config_of: name -> training config (a plan's resolved config, or a checkpoint's).

    Returns:
        ``[(system, optimiser steps, seconds of training audio)]``; the audio of one step is
        ``train.batch_size`` crops of ``train.crop_seconds``. An assembled system adds 0 steps.
    """
    out: list[tuple[str, int, float]] = []
    seen: set[str] = set()

    def visit(s: str) -> None:
        if s in seen:
            return
        seen.add(s)
        cfg = config_of(s)
        for dep in init_systems(cfg):
            visit(dep)
        tc = cfg["train"]
        steps = int(tc["max_steps"])
        out.append((s, steps, steps * float(tc["batch_size"]) * float(tc["crop_seconds"])))
    visit(system)
    return out


def total(system: str, config_of: Callable[[str], dict]) -> dict:
    """``{"steps", "hours", "chain"}``: the summed steps and hours of training audio of
    :func:`chain`, and the chain itself."""
    c = chain(system, config_of)
    return {"steps": sum(n for _, n, _ in c), "hours": sum(a for _, _, a in c) / 3600.0, "chain": c}


def describe(b: dict) -> str:
    """``"1800 steps, 8.0 h of audio (600 pretrain_enc_l1 + 600 pretrain_dec_frozen_l1 + 600 own)"``."""
    parts = [f"{n} {s}" for s, n, _ in b["chain"][:-1] if n]
    own = b["chain"][-1][1]
    detail = f" ({' + '.join(parts + [f'{own} own'])})" if parts else ""
    return f"{b['steps']} steps, {b['hours']:.1f} h of audio{detail}"


def matched_base(steps: int) -> str:
    """The name of Base trained for ``steps`` optimiser steps (``seslib.recipe.systems``: ``S_steps<N>``)."""
    return f"base_steps{int(steps)}"
