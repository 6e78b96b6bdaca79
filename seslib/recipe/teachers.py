"""The teachers a run names, as seslib.teacher specs.

Names are those of se.sh's ``--teacher`` and ``--teacher-ablation``: a seslib.teacher spec
(``whisper-tiny.en``, a hub id, a directory), ``pretrain`` (the wav2vec 2.0 that stage 2
pre-trains into ``exp/teacher/teacher``), ``random`` (the run's main teacher with random
weights) or ``random[@SEED]:<name>``.
"""
from __future__ import annotations

import re

from ..teacher import split_random
from .systems import PlanError


def pretrain_dir(recipe_dir: str) -> str:
    """Where stage 2 writes the offline pre-trained teacher."""
    return f"{recipe_dir}/exp/teacher/teacher"


def teacher_spec(name: str, main: str, recipe_dir: str) -> str:
    """The seslib.teacher spec of teacher ``name`` (``main``: the run's main teacher)."""
    if name == "pretrain":
        return pretrain_dir(recipe_dir)
    if name == "random":
        if main == "random":
            raise PlanError("--teacher random names no teacher to copy the shape of: use random:<spec>")
        return "random:" + teacher_spec(main, main, recipe_dir)
    prefix, base = split_random(name)
    return prefix + teacher_spec(base, main, recipe_dir) if prefix else name


def teacher_tag(spec: str, recipe_dir: str) -> str:
    """A file-name-safe name of a teacher spec (paths inside the recipe made relative)."""
    prefix, rest = split_random(spec)
    rest = rest[len(recipe_dir) + 1:] if rest.startswith(recipe_dir + "/") else rest
    return re.sub(r"[^A-Za-z0-9._-]", "_", prefix + rest)


def is_random(spec: str) -> bool:
    return bool(split_random(spec)[0])


def weights_dir(spec: str) -> str:
    """The spec without its ``random`` prefix (the directory or name whose weights or shape it reads)."""
    return split_random(spec)[1]
