"""Training throughput on the device at hand: steps/s and seconds of audio per second.

  python -m seslib.bin.benchmark_train --train-dir data/train --valid-dir data/valid \\
      --modes base distill_embed --teacher whisper-tiny.en --workers 0 2 --precisions 32 bf16-mixed

For each mode x DataLoader worker count x precision it trains the paper-sized GCRN for
``--steps`` steps (after ``--warmup`` steps that are not timed: the rate is the one the
trainer logs over the timed window) on static crops of ``--train-dir``, the teacher features
(where the mode has any) computed online on the training device or read from stage 2's dump
(``--features online dumped --dump-dir dump/<teacher>/train``), and prints a table: steps/s, seconds of
audio per second, and how long the budget of ``--budget`` (a training config, e.g. the paper's
``conf/train_common_dns.yaml``: 4 M steps of 200 x 4 s) would take at that rate, scaled by the
audio per step. A benchmark, not a test: numbers depend on the machine and what else runs.
"""
from __future__ import annotations

import argparse
import platform
import re
import sys
import tempfile
from pathlib import Path

from .. import logutil


def measure(mode: str, workers: int, precision: str, args, features: str = "online") -> float:
    """Steps per second of ``mode`` over the timed window."""
    import torch

    from ..config import load_config
    from ..train.trainer import Trainer
    n = args.warmup + args.steps
    sets = [f"mode={mode}", f"train.max_steps={n}", f"train.log_every={args.warmup or n}", f"train.valid_every={n}",
            f"train.ckpt_every={n}", "train.valid_max_utts=1",
            f"train.batch_size={args.batch_size}", f"train.crop_seconds={args.crop_seconds}",
            f"train.num_workers={workers}", f"train.precision={precision}", f"train.device={args.device}",
            f"train.threads={args.threads}"]
    if mode != "base":
        sets += [f"teacher.spec={args.teacher}", f"teacher.features={features}"]
        sets += [f"teacher.dump_dir={args.dump_dir}"] if features == "dumped" else []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "exp"
        trainer = Trainer(load_config(None, sets), args.train_dir, args.valid_dir or args.train_dir, out)
        trainer.train()
        del trainer
        logged = [(int(a), float(b)) for a, b in
                  re.findall(r"step (\d+)/\d+ .* ([\d.]+) steps/s", (out / "train.log").read_text())]
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    # the windows after the warm-up: steps over the time they took (each window's steps / its rate)
    windows = [(b[0] - a[0], b[1]) for a, b in zip(logged, logged[1:])] if args.warmup else [(n, logged[-1][1])]
    return sum(k for k, _ in windows) / sum(k / r for k, r in windows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.benchmark_train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-dir", required=True, help="data dir of static pairs (wav.scp, spk1.scp, utt2num_samples)")
    p.add_argument("--valid-dir", help="validation data dir (default: the training dir; one utterance is scored)")
    p.add_argument("--modes", nargs="+", default=["base", "distill_embed"], help="training modes (default base distill_embed)")
    p.add_argument("--teacher", default="whisper-tiny.en", help="teacher of the modes that have one (default whisper-tiny.en)")
    p.add_argument("--workers", nargs="+", type=int, default=[0, 2], help="DataLoader worker counts (default 0 2)")
    p.add_argument("--precisions", nargs="+", default=["32", "bf16-mixed"],
                   help="train.precision values (default 32 bf16-mixed)")
    p.add_argument("--features", nargs="+", default=["online"], choices=["online", "dumped"],
                   help="teacher features of the teacher modes: computed online on the training device, or read "
                        "from --dump-dir (default online)")
    p.add_argument("--dump-dir", help="stage 2's dump of --train-dir (dump/<teacher>/train), for --features dumped")
    p.add_argument("--device", default="auto", help="train.device (default auto: CUDA when present)")
    p.add_argument("--batch-size", type=int, default=8, help="batch size (default 8, the mini budget's)")
    p.add_argument("--crop-seconds", type=float, default=2.0, help="crop length in seconds (default 2)")
    p.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default 0: torch's choice)")
    p.add_argument("--budget", help="training config whose max_steps x batch_size x crop_seconds is extrapolated "
                                    "(e.g. conf/train_common_dns.yaml)")
    args = p.parse_args(argv)
    if "dumped" in args.features and not (args.dump_dir and Path(args.dump_dir, "meta.json").is_file()):
        p.error(f"--features dumped needs --dump-dir, a dump of --train-dir (no meta.json in {args.dump_dir})")
    logutil.setup()
    import torch

    from ..config import load_config
    from ..engine import resolve_device
    budget = None
    if args.budget:
        tc = load_config(args.budget)["train"]
        budget = (tc["max_steps"], tc["batch_size"] * tc["crop_seconds"])
    dev = resolve_device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else (platform.processor() or platform.machine())
    print(f"device {dev} ({name}), torch {torch.__version__}, {torch.get_num_threads()} CPU threads; batch "
          f"{args.batch_size} x {args.crop_seconds:g} s; {args.steps} timed steps after {args.warmup}")
    head = "| mode | features | workers | precision | steps/s | audio s/s |" + (" budget at this rate |" if budget else "")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for mode in args.modes:
        for feats in (args.features if mode != "base" else ["-"]):
            for w in args.workers:
                for prec in args.precisions:
                    cells = f"| {mode} | {feats} | {w} | {prec} |"
                    try:
                        rate = measure(mode, w, prec, args, feats)
                    except (ValueError, RuntimeError) as exc:
                        print(f"{cells} failed: {exc} |")
                        continue
                    audio_rate = rate * args.batch_size * args.crop_seconds
                    row = f"{cells} {rate:.2f} | {audio_rate:.1f} |"
                    if budget:
                        days = budget[0] * budget[1] / audio_rate / 86400
                        row += f" {days:,.0f} days ({budget[0]:,} steps of {budget[1]:g} s) |"
                    print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
