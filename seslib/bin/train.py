"""Train an enhancer: python -m seslib.bin.train --config CONF --train-dir D --valid-dir D --out EXP

The YAML config names a mode (``base``, ...) and overrides the defaults of
seslib.config.DEFAULTS (``include: FILE`` merges a shared file first); ``--set
section.key=value`` overrides single values. Sections: mode, mode_options, teacher, model,
optim, scheduler, train, data (static crops or dynamic mixing: seslib.dynamic_mix) and
augment (seslib.augment; ``augment: null`` turns every augmentation off). The
effective config is written to EXP/config.yaml. Training resumes from EXP/last.pt when it
exists. ``train.device`` and ``train.precision`` say where and how (seslib.engine: auto = CUDA
with bf16 mixed precision when present, else the CPU in float32). Under ``torchrun
--nproc-per-node N`` (one or several nodes) it runs data-parallel (DDP; NCCL when the processes
train on GPUs, gloo on CPUs), the global batch split over the processes; a config with
``train.max_steps: 0`` (assembled from trained parts) is written by rank 0 alone.
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import sys

import yaml

from .. import logutil
from ..audio import AudioError
from ..data import DataDirError, validate_data_dir
from ..fileutil import atomic_write_text
from ..config import load_config
from ..train.trainer import Trainer

log = logging.getLogger("seslib.train")


def check_data_dirs(train_dir, valid_dir) -> None:
    """The training and validation dirs, checked before anything is written.

    Raises:
        DataDirError: listing the first problems, each naming its file.
    """
    for d, need in ((train_dir, ["spk1.scp", "utt2num_samples"]), (valid_dir, ["spk1.scp"])):
        if not os.path.isdir(d):
            raise DataDirError(f"{d} does not exist: prepare the data first (run.sh --stage 0 --stop-stage 1, or "
                               f"--train-dir/--valid-dir/--test-dir for your own data dirs)")
        problems = validate_data_dir(d, "exists", need)
        if problems:
            raise DataDirError(f"{d} is not a valid data dir: " + "; ".join(problems[:3]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML training config (e.g. exp/plan/train/base.yaml, written by seslib.recipe.plan)")
    p.add_argument("--train-dir", required=True, help="training data dir (wav.scp, spk1.scp, utt2num_samples)")
    p.add_argument("--valid-dir", required=True, help="validation data dir")
    p.add_argument("--out", required=True, help="experiment dir (checkpoints, config.yaml, train.log)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="override config values, e.g. train.max_steps=100 optim.lr=5e-4")
    args = p.parse_args(argv)
    logutil.setup()
    import torch.distributed as dist
    world = int(os.environ.get("WORLD_SIZE", "1"))
    try:
        cfg = load_config(args.config, args.set)
        check_data_dirs(args.train_dir, args.valid_dir)
    except (ValueError, FileNotFoundError, DataDirError) as exc:
        log.error("%s", exc)
        return 1
    if cfg["train"]["max_steps"] == 0 and world > 1:
        # assembling a model from trained parts is no training: rank 0 does it alone, without a
        # process group (a group that lives a few milliseconds has aborted gloo at exit)
        if int(os.environ.get("RANK", "0")) != 0:
            return 0
    try:  # the trainer sets up device, precision and (under torchrun) the process group: seslib.engine
        trainer = Trainer(cfg, args.train_dir, args.valid_dir, args.out)  # checks teacher, features, init
        os.makedirs(args.out, exist_ok=True)
        if int(os.environ.get("RANK", "0")) == 0:
            atomic_write_text(os.path.join(args.out, "config.yaml"), yaml.safe_dump(cfg, sort_keys=False))
        result = trainer.train()
        log.info("done at step %d; best valid %s %.3f at step %d", result["step"],
                 result["best"].get("metric", "SI-SDR (dB)"), result["best"]["score"], result["best"]["step"])
    except (ValueError, AudioError, DataDirError, FileNotFoundError) as exc:
        log.error("%s", exc)
        return 1
    finally:
        trainer = None  # noqa: F841  (its DDP module goes before the process group, on every path;
        gc.collect()    # left to the interpreter's exit, gloo's destructor can deadlock on the GIL)
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
