"""Describe the training configs of a recipe's systems, one line each, for run.sh:

  python -m seslib.bin.describe_systems --conf-dir conf --tag mini base triplet ...
  -> "<system> <mode> <uses teacher 0|1> <dynamic mixing 0|1> <RIR list read, or -> <teacher, or ->"

A system ``S`` is trained with ``<conf-dir>/train_S_<tag>.yaml`` (and what it includes);
its ``mode`` key names the training mode. A system of the teacher ablation,
``S_teacher-<name>``, is ``S`` trained with another teacher: its config is ``S``'s and
the last column is ``<name>`` (``-`` for the recipe's main teacher). Exits non-zero, naming the file, when a config
is missing or names an unknown mode.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import augment
from ..modes import get_mode
from .train import load_config

#: separates a system from the teacher it was trained with in teacher-ablation names
TEACHER_SEP = "_teacher-"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.describe_systems", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conf-dir", default="conf", help="directory of train_<system>_<tag>.yaml (default conf)")
    p.add_argument("--tag", required=True, help="config tag (the corpus name, or e.g. tiny)")
    p.add_argument("systems", nargs="*", help="system names")
    args = p.parse_args(argv)
    for s in args.systems:
        base, _, teacher = s.partition(TEACHER_SEP)
        path = Path(args.conf_dir) / f"train_{base}_{args.tag}.yaml"
        if not path.is_file():
            print(f"describe_systems: no training config {path} for system '{s}'", file=sys.stderr)
            return 1
        try:
            cfg = load_config(path)
            mode = get_mode(cfg["mode"])
        except ValueError as exc:
            print(f"describe_systems: {path}: {exc}", file=sys.stderr)
            return 1
        aug = augment.merge_defaults(cfg["augment"])
        rirs = aug["reverb"]["rir_scp"] if "reverb" in augment.enabled(aug) and cfg["data"]["dynamic_mixing"] else None
        if teacher and not mode.uses_teacher:
            print(f"describe_systems: system '{s}': mode {cfg['mode']} ({path}) uses no teacher", file=sys.stderr)
            return 1
        print(s, cfg["mode"], int(mode.uses_teacher), int(bool(cfg["data"]["dynamic_mixing"])), rirs or "-",
              teacher or "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
