"""Make noisy/clean/noise data dirs from a source dir and a mixing plan.

Steps (each a sub-command, so that a recipe can run ``render`` as parallel jobs):

  plan      draw the mixing plan from a seed (reads audio headers only)
  render    make this job's share of the mixtures (resumes after a kill)
  finalize  write the Kaldi data dir (scps, utt2spk, spk2utt, text, utt2num_samples,
            mix_plan.jsonl) and validate it
  all       plan + render + finalize in one process
  regenerate  rebuild the mixtures of an existing mix_plan.jsonl (bit-exact) into --out
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys

from .. import audio, logutil
from ..audio import AudioError
from ..data import DataDirError, read_plan
from ..mixing import (finalize, make_plan, plan_summary, read_source_dir, render_job,
                      write_plan_for_render)

log = logging.getLogger("seslib.mix_data")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.mix_data", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--out", required=True, help="output data dir (audio goes to OUT/audio/)")
        sp.add_argument("--quiet", action="store_true", help="no progress bar")

    def plan_opts(sp):
        sp.add_argument("--sources", required=True,
                        help="source dir with speech.scp, speech2spk, [speech.text], noise.scp")
        sp.add_argument("--tag", required=True, help="set name used in utterance ids (train, valid, test)")
        sp.add_argument("--seed", type=int, default=0, help="seed of the plan (default 0)")
        sp.add_argument("--snr", type=float, nargs=2, metavar=("LO", "HI"), default=(-5.0, 5.0),
                        help="SNR range in dB, uniform; LO == HI for a fixed SNR (default -5 5)")
        sp.add_argument("--snr-definition", choices=audio.SNR_DEFINITIONS, default="global",
                        help="how the SNR is measured: global (whole-signal power, as the DNS synthesizer's "
                             "snr_mixer) or active (power on active 100 ms windows) (default global)")
        sp.add_argument("--level", type=float, nargs=2, metavar=("LO", "HI"), default=(-35.0, -15.0),
                        help="target mixture level range, dBFS (default -35 -15, as DNS)")
        sp.add_argument("--segment-seconds", type=float, default=0.0,
                        help="0: each speech source whole, once; >0: --num-utts random segments this long")
        sp.add_argument("--num-utts", type=int, default=0, help="number of segments (with --segment-seconds)")
        sp.add_argument("--min-seconds", type=float, default=1.0, help="skip speech sources shorter than this")

    sp = sub.add_parser("plan", help="draw the plan")
    common(sp)
    plan_opts(sp)
    sp = sub.add_parser("render", help="render one job's share")
    common(sp)
    sp.add_argument("--job", type=int, default=1, help="job index, 1-based")
    sp.add_argument("--num-jobs", type=int, default=1, help="number of jobs")
    sp = sub.add_parser("finalize", help="write and validate the data dir")
    common(sp)
    sp = sub.add_parser("all", help="plan, render and finalize")
    common(sp)
    plan_opts(sp)
    sp = sub.add_parser("regenerate", help="rebuild mixtures of an existing plan")
    common(sp)
    sp.add_argument("--plan", required=True, help="mix_plan.jsonl of an existing data dir")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logutil.setup()
    try:
        if args.cmd in ("plan", "all"):
            speech, noise = read_source_dir(args.sources)
            lo, hi = args.snr
            entries = make_plan(speech, noise, args.tag, args.seed, (lo, hi), tuple(args.level),
                                args.segment_seconds, args.num_utts, args.min_seconds, args.snr_definition)
            write_plan_for_render(args.out, entries)
            log.info("%s: planned %s", args.out, plan_summary(entries))
        if args.cmd == "regenerate":
            entries = list(read_plan(args.plan).values())
            shutil.rmtree(f"{args.out}/.plan", ignore_errors=True)
            write_plan_for_render(args.out, entries)
        if args.cmd in ("render", "all", "regenerate"):
            job, nj = (args.job, args.num_jobs) if args.cmd == "render" else (1, 1)
            n = render_job(args.out, job, nj, progress=not args.quiet)
            log.info("%s: job %d/%d rendered %d utterances", args.out, job, nj, n)
        if args.cmd in ("finalize", "all", "regenerate"):
            s = finalize(args.out)
            log.info("%s: %d utterances, %.3f h; largest |realised - planned SNR| = %.4f dB",
                     args.out, s["utts"], s["hours"], s["snr_max_error_db"])
    except (AudioError, DataDirError, FileNotFoundError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
