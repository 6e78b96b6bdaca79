"""Training modes: one small class per way of training the enhancer, found by name.

A mode turns a batch into a loss. It may own extra modules (projections, a
discriminator) and extra optimisers; the trainer saves and restores all of them.
"""
from __future__ import annotations

from .base import Base, Mode

MODES: dict[str, type[Mode]] = {"base": Base}


def get_mode(name: str) -> type[Mode]:
    """The mode class registered under ``name``."""
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"unknown training mode '{name}'; known: {sorted(MODES)}") from None
