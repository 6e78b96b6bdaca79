"""A system's training config and the systems it depends on.

A system ``S`` of a recipe trains with three layers, merged in order (:func:`seslib.config.load_config`):

1. the recipe's ``conf/train_common_<tag>.yaml`` (``train_common.yaml`` where the recipe has no
   file for its tag): budget, data pipeline, augmentation, shared by every system;
2. ``conf/modes/S.yaml`` at the top of the repository: what the system is (mode, its options,
   the checkpoints its ``init`` reads), the same in every recipe;
3. the recipe's ``conf/train_S_<tag>.yaml`` (or ``train_S.yaml``), where it has one: what this
   recipe changes for S, or a system of its own (which then names its ``mode``).

Derived names: ``S_teacher-<tag>`` is S trained with another teacher (the teacher ablation),
``S_seed<N>`` is S trained with training seed N (the seed spread), ``S_steps<N>`` is S trained for
N optimiser steps (Base of a fine-tuned chain's total budget, :mod:`seslib.recipe.budget`); all
read S's layers, in the order ``S_steps<N>_teacher-<tag>_seed<M>``.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..config import ConfigError, load_config
from ..modes import get_mode

#: separates a system from the teacher it was trained with in teacher-ablation names
TEACHER_SEP = "_teacher-"
_SEED = re.compile(r"^(.+)_seed(\d+)$")
_STEPS = re.compile(r"^(.+)_steps(\d+)$")


class PlanError(ValueError):
    """A recipe option or config that cannot be planned; the message names the option or file."""


def split_seed(system: str) -> tuple[str, int | None]:
    """``("S", N)`` for ``S_seed<N>``, ``(system, None)`` otherwise."""
    m = _SEED.match(system)
    return (m.group(1), int(m.group(2))) if m else (system, None)


def split_teacher(system: str) -> tuple[str, str]:
    """``(S, teacher tag)`` of ``S_teacher-<tag>[_seed<N>]``; the tag is ``""`` for the run's teacher."""
    base, _, teacher = split_seed(system)[0].partition(TEACHER_SEP)
    return base, teacher


def split_steps(system: str) -> tuple[str, int | None]:
    """``(S, N)`` of ``S_steps<N>[_teacher-<tag>][_seed<M>]``, ``(S, None)`` without a step suffix
    (S: the name without any suffix)."""
    m = _STEPS.match(split_teacher(system)[0])
    return (m.group(1), int(m.group(2))) if m else (split_teacher(system)[0], None)


class SystemConfigs:
    """The layered training configs of one recipe (see the module docstring).

    Args:
        modes_dir: ``conf/modes`` of the repository.
        recipe_conf: the recipe's ``conf`` directory.
        tag: the config tag (the corpus name, or e.g. ``tiny``).
    """

    def __init__(self, modes_dir, recipe_conf, tag: str):
        self.modes_dir, self.recipe_conf, self.tag = Path(modes_dir), Path(recipe_conf), tag

    def _recipe_file(self, stem: str) -> Path | None:
        for name in (f"{stem}_{self.tag}.yaml", f"{stem}.yaml"):
            if (self.recipe_conf / name).is_file():
                return self.recipe_conf / name
        return None

    def tags(self) -> list[str]:
        """The tags this recipe's conf has files for (``train_common_<tag>.yaml``)."""
        return sorted(f.stem[len("train_common_"):] for f in self.recipe_conf.glob("train_common_*.yaml"))

    def check_tag(self, explicit: bool) -> None:
        """PlanError, listing the tags that exist, when a tag given by ``--train-conf-tag`` names no
        file, or when the recipe has no shared layer at all (every system would train on the code's
        defaults: another experiment under the usual names)."""
        if explicit and not list(self.recipe_conf.glob(f"train_*_{self.tag}.yaml")):
            raise PlanError(f"--train-conf-tag {self.tag}: no {self.recipe_conf}/train_common_{self.tag}.yaml (nor any "
                            f"train_<system>_{self.tag}.yaml); tags there: {' '.join(self.tags()) or 'none'}"
                            + (" (and the untagged train_common.yaml)" if (self.recipe_conf / "train_common.yaml").is_file()
                               else ""))
        if self.common() is None:
            raise PlanError(f"no {self.recipe_conf}/train_common_{self.tag}.yaml nor {self.recipe_conf}/train_common.yaml: "
                            f"the recipe's training budget and data settings (tags there: {' '.join(self.tags()) or 'none'}; "
                            "egs/TEMPLATE/conf/train_common.yaml is a start)")

    def common(self) -> Path | None:
        """The recipe's shared layer (``train_common_<tag>.yaml`` or ``train_common.yaml``)."""
        return self._recipe_file("train_common")

    def layers(self, system: str) -> list[Path]:
        """The files ``system`` is trained with, in merge order; PlanError when it has none."""
        base = split_steps(system)[0]
        mode, own = self.modes_dir / f"{base}.yaml", self._recipe_file(f"train_{base}")
        if not mode.is_file() and own is None:
            known = sorted({f.stem for f in self.modes_dir.glob("*.yaml")}
                           | {f.stem[len("train_"):].removesuffix(f"_{self.tag}") for f in self.recipe_conf.glob("train_*.yaml")
                              if not f.stem.startswith("train_common")})
            raise PlanError(f"system '{system}' has no config: neither {mode} nor "
                            f"{self.recipe_conf / f'train_{base}_{self.tag}.yaml'} exists; systems with one: "
                            + " ".join(known))
        common = self.common()
        return [p for p in (common, mode if mode.is_file() else None, own) if p is not None]

    def load(self, system: str, sets=()) -> tuple[dict, object]:
        """(config, Mode) of ``system`` with ``sets`` (``key=value``) on top; PlanError naming the file."""
        layers = self.layers(system)
        try:
            cfg = load_config(layers, sets)
            mode = get_mode(cfg["mode"])
        except ConfigError as exc:  # names the file (or the file it includes) already
            raise PlanError(f"{exc} (system '{system}')") from None
        except (ValueError, KeyError) as exc:
            raise PlanError(f"{layers[-1]}: {exc} (system '{system}')") from None
        if split_teacher(system)[1] and not mode.uses_teacher:
            raise PlanError(f"system '{system}': mode {cfg['mode']} ({layers[-1]}) uses no teacher")
        return cfg, mode

    def with_dependencies(self, systems) -> list[str]:
        """``systems`` with every system whose checkpoint an ``init`` (or a fixed teacher) reads
        put before the first system that needs it; PlanError on a loop."""
        out: list[str] = []

        def visit(s, path=()):
            if s in out:
                return
            if s in path:
                raise PlanError(f"systems initialise each other in a loop: {' -> '.join(path + (s,))}")
            for dep in init_systems(self.load(s)[0]):
                visit(dep, path + (s,))
            out.append(s)
        for s in systems:
            visit(s)
        return out


def _exp_system(path) -> str | None:
    parts = Path(str(path)).parts
    return parts[1] if len(parts) > 2 and parts[0] == "exp" else None


def fixed_teacher(cfg: dict) -> str | None:
    """A teacher that the config fixes to another system's checkpoint (``teacher.spec: exp/<S>/...``,
    e.g. the teacher-shaped student): kept instead of the run's teacher."""
    path = (cfg.get("teacher") or {}).get("spec")
    return path if path and _exp_system(path) else None


def init_systems(cfg: dict) -> list[str]:
    """Systems whose checkpoints (``exp/<S>/...``) the config's ``init`` (or a fixed teacher) reads."""
    found = [_exp_system(i["checkpoint"]) for i in cfg.get("init") or []] + [_exp_system(fixed_teacher(cfg) or "")]
    return [s for s in found if s]
