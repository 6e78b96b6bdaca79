"""Pre-train a small wav2vec 2.0 teacher offline on the clean speech of a data dir.

  python -m seslib.bin.pretrain_teacher --data-dir data/train --out exp/teacher [--config C] [--set k=v ...]

The YAML config overrides seslib.train.teacher_pretrain.DEFAULTS (sections ``model``: any
Wav2Vec2Config argument; ``train``: batch_size, crop_seconds, max_steps, lr,
warmup_steps, weight_decay, grad_clip, seed, log_every, ckpt_every, gumbel_max,
gumbel_min, gumbel_decay, threads). Resumes from OUT/last.pt; writes the model with
save_pretrained to OUT/teacher, which seslib.teacher.Teacher (and the recipe's teacher
option) loads like a hub id.
"""
from __future__ import annotations

import argparse
import logging
import sys


from .. import logutil
from ..audio import AudioError
from ..data import DataDirError
from ..train.teacher_pretrain import DEFAULTS, TeacherPretrainer
from ..config import load_sections

log = logging.getLogger("seslib.pretrain_teacher")


def load_config(path=None, sets=()) -> dict:
    """DEFAULTS, then the YAML file, then ``--set`` values (:func:`seslib.config.load_sections`;
    any ``model`` key: a Wav2Vec2Config argument; unknown ``train`` keys are an error)."""
    return load_sections(DEFAULTS, path, sets, strict=("train",))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.pretrain_teacher", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", required=True, help="data dir whose spk1.scp (clean speech) is used")
    p.add_argument("--out", required=True, help="experiment dir (last.pt, train.log, teacher/)")
    p.add_argument("--config", help="YAML config")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="e.g. train.max_steps=100")
    args = p.parse_args(argv)
    logutil.setup()
    try:
        cfg = load_config(args.config, args.set)
        r = TeacherPretrainer(cfg, args.data_dir, args.out).train()
        log.info("teacher after %d steps: %s", r["step"], r["teacher"])
    except (ValueError, TypeError, AudioError, DataDirError, FileNotFoundError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
