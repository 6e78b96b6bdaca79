"""Time and disk of each recipe stage against hours of training audio, extrapolated.

  python -m seslib.bin.scale_report --run /tmp/dns_1h --run /tmp/dns_4h --target-hours 100

Each ``--run`` is a recipe dir that ran some stages of ``run.sh``; its hours of training
audio are those of ``data/train`` (``utt2num_samples``). For every stage (0 data preparation,
1 mixing, 2 teacher features, 3 training, 4 enhancement, 5 scoring) it adds up, from the
stamps in ``exp/stages``, the seconds the stage's steps took and the bytes of the files they
recorded, and prints a table with one column per run. With two runs or more it fits
``a + b * hours`` (least squares) to the stages whose work grows with the training audio (0-2)
and prints the value at ``--target-hours``; training (3) grows with its steps, enhancement and
scoring (4-5) with the test set, so for them it prints the runs' mean, which holds for the
budget and test set the runs had (the training time of another budget: ``benchmark_train``).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

STAGES = {0: "data preparation", 1: "mixing, RIRs", 2: "teacher features", 3: "training", 4: "enhancement",
          5: "scoring", 6: "analysis", 7: "results"}
GROWS_WITH_HOURS = {0, 1, 2}


def train_hours(recipe: Path) -> float:
    f = recipe / "data" / "train" / "utt2num_samples"
    if not f.is_file():
        raise FileNotFoundError(f"{f} does not exist: run stage 1 of {recipe} first")
    return sum(int(line.split()[1]) for line in f.read_text().splitlines() if line.strip()) / 16000 / 3600


def stage_costs(recipe: Path) -> dict[int, tuple[float, int, int]]:
    """Stage number -> (seconds, bytes recorded, number of stamps: the parts the stage ran in) from ``exp/stages/*.done``."""
    out: dict[int, list] = defaultdict(lambda: [0.0, 0, 0])
    stamps = sorted((recipe / "exp" / "stages").glob("*.done"))
    if not stamps:
        raise FileNotFoundError(f"no stage stamps in {recipe / 'exp' / 'stages'}")
    for f in stamps:
        s = json.loads(f.read_text())
        head = s.get("name", "").split("_")[0]
        if not head.isdigit():
            continue
        c = out[int(head)]
        c[0] += float(s.get("elapsed_s", 0.0))
        c[1] += sum(size for size, _ in (s.get("written") or {}).values())
        c[2] += 1
    return {k: tuple(v) for k, v in sorted(out.items())}


def fit(hours, values, target: float) -> float:
    """``a + b * target`` of the least-squares line through ``(hours, values)``."""
    b, a = np.polyfit(np.asarray(hours, float), np.asarray(values, float), 1)
    return float(a + b * target)


def _t(s: float) -> str:
    return f"{s:,.0f} s" if s < 3600 else f"{s / 3600:,.1f} h"


def _b(n: float) -> str:
    for unit, k in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if abs(n) >= k:
            return f"{n / k:,.1f} {unit}"
    return f"{n / 1e6:.2f} MB"


def report(runs: list[Path], target: float) -> list[str]:
    hours = [train_hours(r) for r in runs]
    costs = [stage_costs(r) for r in runs]
    stages = sorted({k for c in costs for k in c})
    extra = len(runs) >= 2 and len(set(round(h, 6) for h in hours)) >= 2
    head = "| stage | " + " | ".join(f"{h:.2f} h: time, disk" for h in hours) + (
        f" | {target:g} h (fit a + b h): time, disk |" if extra else " |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for k in stages:
        cells = [f"{_t(c[k][0])}, {_b(c[k][1])} ({c[k][2]} parts)" if k in c else "-" for c in costs]
        row = f"| {k} {STAGES.get(k, '')} | " + " | ".join(cells) + " |"
        if extra:
            have = [(h, c[k]) for h, c in zip(hours, costs) if k in c]
            if k not in GROWS_WITH_HOURS:  # its work is set by the steps or the test set: their mean
                t, d = (float(np.mean([v[i] for _, v in have])) for i in (0, 1))
                row += f" {_t(t)}, {_b(d)} (the runs' mean: grows with the steps or the test set, not the hours) |"
            elif len(have) >= 2 and len({round(h, 6) for h, _ in have}) >= 2:
                t = fit([h for h, _ in have], [v[0] for _, v in have], target)
                d = fit([h for h, _ in have], [v[1] for _, v in have], target)
                row += f" {_t(max(t, 0))}, {_b(max(d, 0))} |"
            else:
                row += " - |"
        lines.append(row)
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.scale_report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", action="append", required=True, type=Path,
                   help="a recipe dir with exp/stages and data/train (repeat for each size)")
    p.add_argument("--target-hours", type=float, default=100.0, help="hours to extrapolate to (default 100, the paper's)")
    a = p.parse_args(argv)
    try:
        print("\n".join(report(a.run, a.target_hours)))
    except (FileNotFoundError, ValueError) as exc:
        print(f"scale_report: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
