"""Dump frozen-teacher features of a data dir to Kaldi ark/scp (see seslib.features).

  python -m seslib.bin.dump_features --teacher T --data-dir data/train --out dump/train \\
      [--kinds clean noisy] [--layers last all] [--nj N]

--teacher is a seslib.teacher spec (whisper-tiny.en, a hub id such as facebook/wav2vec2-base,
a save_pretrained or CTranslate2 directory, random:<spec>). ``clean``
runs the teacher on spk1.scp (distillation targets), ``noisy`` on wav.scp (concatenation
input, triplet negatives); ``last`` keeps the last layer, ``all`` every hidden state
(for the weighted-sum modes). With --nj > 1 the jobs run in parallel through the job
launcher (logs in OUT/log); jobs whose scp exists are skipped, so a killed dump resumes.
The merged scps hold absolute paths, usable from any directory. Disk use is logged.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .. import logutil
from ..audio import AudioError
from ..data import DataDirError

log = logging.getLogger("seslib.dump_features")


def main(argv=None) -> int:
    from ..features import KINDS, LAYERS
    p = argparse.ArgumentParser(prog="python -m seslib.bin.dump_features", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", required=True, help="teacher spec (seslib.teacher): whisper-tiny.en, hub id, directory, random:<spec>")
    p.add_argument("--data-dir", required=True, help="data dir (wav.scp noisy, spk1.scp clean)")
    p.add_argument("--out", required=True, help="dump directory")
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS),
                   help="which audio to run the teacher on (default: clean noisy)")
    p.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS),
                   help="last layer and/or all hidden states (default: last all)")
    p.add_argument("--streams", nargs="+", choices=[f"{k}_{la}" for k in KINDS for la in LAYERS],
                   help="only these streams (e.g. clean_last noisy_all) instead of --kinds x --layers: the ones "
                        "the systems read (run.sh passes them)")
    p.add_argument("--storage", default="float32", choices=["float32", "two-byte", "speech-feature"],
                   help="how matrices are stored: float32 (default, as computed), two-byte (Kaldi kTwoByteAuto: half "
                        "the size), speech-feature (Kaldi's feature compression: about a quarter); see README for the "
                        "error each introduces")
    p.add_argument("--nj", type=int, default=1, help="parallel jobs (default 1)")
    p.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)  # one job of --nj (internal)
    p.add_argument("--threads", type=int, default=0, help="torch threads per job (default: 1 when --nj > 1)")
    p.add_argument("--device", default="cpu",
                   help="where the teacher runs: cpu (default), cuda, cuda:N or auto (CUDA when present); "
                        "with --nj > 1 and cuda, job J runs on GPU (J - 1) mod the GPU count")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logutil.setup()
    import torch

    from .. import features
    from ..engine import job_device
    from ..teacher import Teacher
    if args.threads or args.nj > 1:
        torch.set_num_threads(args.threads or 1)
    out, data_dir = Path(args.out), Path(args.data_dir)
    try:
        if not (data_dir / "wav.scp").is_file():
            raise FileNotFoundError(f"{data_dir} is not a data dir (no wav.scp)")
        if args.nj > 1 and not args.job:
            from ..launcher import run_module_jobs
            opts = ["--teacher", args.teacher, "--data-dir", str(data_dir), "--out", str(out),
                    "--kinds", *args.kinds, "--layers", *args.layers, "--device", args.device] \
                + (["--streams", *args.streams] if args.streams else []) + ["--storage", args.storage]
            if not run_module_jobs("seslib.bin.dump_features", opts, args.nj, out, "dump"):
                return 1
            teacher = None
        else:
            job, nj = (args.job, args.nj) if args.job else (1, 1)
            teacher = Teacher(args.teacher, layers="all").to(job_device(args.device, job))
            n = features.dump_job(teacher, data_dir, out, job, nj, args.kinds, args.layers, not args.quiet,
                                  args.streams, args.storage)
            log.info("job %d/%d: dumped %d stream(s) (others were done)", job, nj, n)
            if args.job:
                return 0
        if teacher is None:
            teacher = Teacher(args.teacher, layers="all")
        features.write_meta(teacher, out, args.storage)
        counts = features.merge_jobs(out, args.nj, args.kinds, args.layers, args.streams)
        log.info("%s: %s utterances; teacher %s, %d hidden states of %d dims; %.1f MB on disk", out,
                 ", ".join(f"{k} {v}" for k, v in counts.items()), args.teacher, teacher.num_hidden, teacher.dim,
                 features.disk_usage(out) / 1e6)
    except (AudioError, DataDirError, FileNotFoundError, ValueError, KeyError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
