"""Data-dir and scp tools (called by utils/*.sh).

  validate DIR [--check-audio none|exists|header] [--require FILE...]
  fix DIR [--utt-list FILE]      keep utterances present everywhere, sort, rebuild spk2utt
  split SCP OUT1 OUT2 ...        split into contiguous parts of near-equal size
  merge OUT IN1 IN2 ...          concatenate parts (sorted, duplicate keys rejected)
  import SRC OUT                 a pre-mixed pair dir (wav.scp noisy, spk1.scp clean) -> data dir
                                 (seslib.premixed: lengths checked at 16 kHz, spk2utt and
                                 utt2num_samples added, written atomically)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data import DataDirError, fix_data_dir, merge_scp, split_scp, validate_data_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.data_dir", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="check a data dir; exit 1 listing the problems")
    v.add_argument("dir")
    v.add_argument("--check-audio", default="exists", choices=["none", "exists", "header"],
                   help="none; exists (default): audio paths exist; header: decodable, lengths match")
    v.add_argument("--require", nargs="*", default=[], help="files that must be present, e.g. spk1.scp text")
    f = sub.add_parser("fix", help="make a data dir consistent (originals kept in DIR/.backup)")
    f.add_argument("dir")
    f.add_argument("--utt-list", help="file whose first column lists the utterances to keep")
    s = sub.add_parser("split", help="split an scp into parts")
    s.add_argument("scp")
    s.add_argument("outs", nargs="+")
    m = sub.add_parser("merge", help="merge scp parts")
    m.add_argument("out")
    m.add_argument("ins", nargs="+")
    i = sub.add_parser("import", help="make a data dir from a pre-mixed pair dir (seslib.premixed)")
    i.add_argument("src", help="pair dir: wav.scp (noisy), spk1.scp (clean) [, utt2spk, text]")
    i.add_argument("out", help="data dir to write")
    args = p.parse_args(argv)
    try:
        if args.cmd == "validate":
            problems = validate_data_dir(args.dir, args.check_audio, args.require)
            for msg in problems:
                print(f"validate_data_dir: {msg}", file=sys.stderr)
            if problems:
                return 1
            print(f"validate_data_dir: {args.dir} is valid")
        elif args.cmd == "fix":
            keep = None
            if args.utt_list:
                keep = [ln.split()[0] for ln in Path(args.utt_list).read_text().splitlines() if ln.strip()]
            r = fix_data_dir(args.dir, keep)
            print(f"fix_data_dir: {args.dir}: kept {r['kept']} utterances, removed {r['removed']}")
        elif args.cmd == "import":
            from ..premixed import import_pair_dir
            n = import_pair_dir(args.src, args.out)
            print(f"import: {args.out}: {n} pre-mixed utterances from {args.src}")
        elif args.cmd == "split":
            split_scp(args.scp, args.outs)
        else:
            merge_scp(args.ins, args.out)
    except (DataDirError, FileNotFoundError) as exc:
        print(f"{args.cmd}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
