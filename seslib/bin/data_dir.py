"""Data-dir and scp tools (called by utils/*.sh).

  validate DIR [--check-audio none|exists|header] [--require FILE...]
  fix DIR [--utt-list FILE]      keep utterances present everywhere, sort, rebuild spk2utt
  split SCP OUT1 OUT2 ...        split into contiguous parts of near-equal size
  merge OUT IN1 IN2 ...          concatenate parts (sorted, duplicate keys rejected)
  own --train D --valid D --test D [--into data] [--check-only]   your own data dirs: each
                                 validated, then data/<set> made a link to it (an existing real dir is
                                 left alone); --check-only: validate, link nothing
  unlink-own [--into data]       remove the links that `own` made (the dirs they point to stay as they
                                 are), so a stage that mixes data/<set> writes a dir of its own
  sets SRC mix|pairs             the sets of a prepared corpus dir (train valid test test_*) that hold
                                 speech + noise sources (mix) or ready pairs (pairs), one per line
  import SRC OUT                 a pre-mixed pair dir (wav.scp noisy, spk1.scp clean) -> data dir
                                 (seslib.premixed: lengths checked at 16 kHz, spk2utt and
                                 utt2num_samples added, written atomically)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data import DataDirError, fix_data_dir, merge_scp, split_scp, validate_data_dir


def unlink_own_dirs(into: Path) -> int:
    """Remove every link in ``into`` that leads out of it (an earlier ``own``): the dirs linked to
    are not touched."""
    from ..provenance import inside
    for link in sorted(into.iterdir()) if into.is_dir() else []:
        if link.is_symlink() and not inside(link, into):
            target = link.resolve()
            link.unlink()
            print(f"{link} was a link to {target} (an earlier run's own data dir): link removed, {target} untouched; "
                  f"this run makes {link} itself")
    return 0


def link_own_dirs(dirs: dict, into: Path, check_only: bool = False) -> int:
    """Validate each dir, then make ``into/<set>`` a link to it; 1 with a message naming the option.
    ``check_only``: validate, link nothing."""
    if not all(dirs.values()):
        print("own: give --train-dir, --valid-dir and --test-dir together", file=sys.stderr)
        return 1
    for name, d in dirs.items():
        # as strictly as stage 1 checks its own: every file decodes, pairs agree at 16 kHz with
        # utt2num_samples (which training crops need)
        problems = validate_data_dir(d, "header", ["spk1.scp", "utt2num_samples"])
        if problems:
            print(f"own: --{name}-dir {d} is not a valid data dir: " + "; ".join(problems[:3])
                  + f" (`python -m seslib.bin.data_dir import {d} NEW_DIR` writes a complete copy of a pair dir)",
                  file=sys.stderr)
            return 1
        link = into / name
        if link.exists() and not link.is_symlink():
            print(f"own: {link} exists and is not a link: move it away to use --{name}-dir {d}", file=sys.stderr)
            return 1
    if check_only:
        print("own data dirs: " + ", ".join(f"{d} valid" for d in dirs.values()) + f" (would be linked in {into})")
        return 0
    into.mkdir(parents=True, exist_ok=True)
    for name, d in dirs.items():
        link = into / name
        link.unlink(missing_ok=True)
        link.symlink_to(Path(d).resolve())
    print("own data dirs: " + ", ".join(f"{into / n} -> {d}" for n, d in dirs.items()) + " (stages 0-1 skipped)")
    return 0


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
    o = sub.add_parser("own", help="link data/{train,valid,test} to your own data dirs, after validating them")
    for name in ("train", "valid", "test"):
        o.add_argument(f"--{name}", required=True, help=f"data dir of the {name} set (wav.scp noisy, spk1.scp clean)")
    o.add_argument("--into", default="data", help="where the links go (default data)")
    o.add_argument("--check-only", action="store_true", help="validate the dirs, link nothing (a dry run)")
    u = sub.add_parser("unlink-own", help="remove the links `own` made (the linked dirs stay as they are)")
    u.add_argument("--into", default="data", help="where the links are (default data)")
    t = sub.add_parser("sets", help="the sets of a prepared corpus dir in one shape")
    t.add_argument("src")
    t.add_argument("shape", choices=["mix", "pairs"])
    for name, what in (("snr-copies", "'SET SNR NAME' of each SNR copy whose set has sources in SRC"),
                       ("test-sets", "the mixed test sets in SRC (a data root): test, test_*, the SNR copies")):
        c = sub.add_parser(name, help=what)
        c.add_argument("src")
        c.add_argument("--of", default="", help="sets copied at other SNRs, space-separated (e.g. 'test test_real')")
        c.add_argument("--snrs", default="", help="the SNRs of the copies, space-separated (e.g. '0 5')")
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
        elif args.cmd == "sets":
            from ..premixed import corpus_sets
            for name in corpus_sets(args.src, args.shape):
                print(name)
        elif args.cmd == "snr-copies":
            import time
            from ..premixed import corpus_sets, snr_copies, snr_copy
            for row in snr_copies(args.src, args.of.split(), args.snrs.split()):
                print(*row)
            for t in set(args.of.split()) & set(corpus_sets(args.src, "pairs")):
                for x in args.snrs.split():
                    print(f"{time.strftime('%F %T')} {snr_copy(t, x)}: skipped (the {t} set is pre-mixed: no noise "
                          "to mix again)", file=sys.stderr)
        elif args.cmd == "test-sets":
            from ..premixed import test_sets
            print(*test_sets(args.src, args.of.split(), args.snrs.split()))
        elif args.cmd == "own":
            return link_own_dirs({n: getattr(args, n) for n in ("train", "valid", "test")}, Path(args.into),
                                 args.check_only)
        elif args.cmd == "unlink-own":
            return unlink_own_dirs(Path(args.into))
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
