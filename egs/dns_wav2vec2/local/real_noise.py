#!/usr/bin/env python3
"""Real recorded noise from Debian packages: 16 kHz mono files, each with a category, its package
and the package's licence, and a train/test split by package.

  python local/real_noise.py --conf conf/real_noise.yaml --out data/local/real_noise

For each package of the config it takes ``--deb-dir/<package>_*.deb`` (downloaded there with
``apt-get download`` when missing: a package registry, no root needed), unpacks it with
``dpkg-deb -x``, reads every audio file under the package's ``paths`` (wav, ogg, oga, flac,
opus: what libsndfile reads), converts it to 16 kHz mono, cuts files longer than
``max_seconds`` into pieces, joins the sounds shorter than ``min_seconds`` of a directory into
sequences, drops what is silent (active level below ``silence_db`` dBFS), and labels each with the category of the first ``rules`` pattern that
matches its path inside the package (else the package's ``category``). It writes
``OUT/wavs/<package>/...wav`` and ``OUT/noise_list.tsv`` (id, path, seconds, category, package,
licence, split): packages in ``test_packages`` are heard only by test sets (split ``test``).

Idempotent: finished files are kept and a rerun only fills in what is missing; the list is
written last, atomically. Packages reserved for checks outside this project are refused.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import debian_sounds as deb
from seslib import audio

DEFAULTS = {"min_seconds": 1.0, "max_seconds": 30.0, "silence_db": -55.0, "packages": {}, "test_packages": []}
COLUMNS = ("id", "path", "seconds", "category", "package", "licence", "split")


def load_conf(path: Path) -> dict:
    cfg = deb.load_conf(path, DEFAULTS, ("licence", "category"))
    missing = sorted(set(cfg["test_packages"]) - set(cfg["packages"]))
    if missing:
        raise deb.SourceConfigError(f"{path}: test_packages {missing} are not among the packages")
    return cfg


def category(rel: str, spec: dict) -> str:
    for pattern, cat in (spec.get("rules") or {}).items():
        if re.search(pattern, rel, re.IGNORECASE):
            return cat
    return spec["category"]


def _row(package: str, spec: dict, out: Path, name: str, rel: str, piece: np.ndarray, split: str) -> dict:
    dst = out / "wavs" / package / f"{name}.wav"
    if not dst.is_file():
        audio.write_audio(dst, piece)
    return {"id": f"{package}-{name}", "path": str(dst.resolve()), "seconds": f"{len(piece) / audio.SAMPLE_RATE:.2f}",
            "category": category(rel, spec), "package": package, "licence": spec["licence"], "split": split}


def package_noises(package: str, spec: dict, tree: Path, out: Path, cfg: dict, split: str, seen: set) -> list[dict]:
    """Rows of the noise list for one unpacked package, writing its pieces under ``out``.

    Files longer than ``max_seconds`` are cut into pieces; files shorter than ``min_seconds``
    (key presses, footsteps, clicks) are joined, in path order with 0.05-0.5 s of silence between
    them, per directory, into sequences of up to ``max_seconds`` (a run of key presses is typing).
    """
    files, copies = deb.unique(deb.audio_files(tree, spec.get("paths")), seen)
    step, shortest = int(cfg["max_seconds"] * audio.SAMPLE_RATE), int(cfg["min_seconds"] * audio.SAMPLE_RATE)
    rows, dropped, short = [], 0, {}
    for f in files:
        rel = str(f.relative_to(tree))
        try:
            x = deb.read(f)
        except audio.AudioError as exc:
            print(f"real_noise.py: {package}: skipped {rel}: {exc}", file=sys.stderr)
            dropped += 1
            continue
        if deb.level_db(x) < cfg["silence_db"]:
            dropped += 1
        elif len(x) < shortest:
            short.setdefault(str(Path(rel).parent), []).append(x)
        else:
            for k in range(-(-len(x) // step)):
                piece = x[k * step:(k + 1) * step]
                if len(piece) >= shortest and deb.level_db(piece) >= cfg["silence_db"]:
                    rows.append(_row(package, spec, out, f"{deb.safe_name(rel)}-{k}", rel, piece, split))
                else:
                    dropped += 1
    for folder, clips in sorted(short.items()):  # short sounds joined into sequences
        rng = np.random.default_rng(list(folder.encode()))
        for k, seq in enumerate(deb.join(clips, cfg["max_seconds"], rng)):
            if len(seq) >= shortest:
                rows.append(_row(package, spec, out, f"{deb.safe_name(folder + '/joined')}-{k}", folder + "/", seq, split))
            else:
                dropped += 1
    print(f"real_noise.py: {package}: {len(rows)} pieces from {len(files)} files "
          f"({sum(float(r['seconds']) for r in rows) / 3600:.2f} h; {dropped} silent, unreadable or too short "
          f"dropped; {copies} copies of other files)")
    return rows


def main(argv=None) -> int:
    p = deb.arg_parser(__doc__, "packages, licences, categories, test_packages", "noise_list.tsv")
    a = p.parse_args(argv)
    try:
        cfg = load_conf(a.conf)
        rows, seen = [], set()  # one recording is read once, whatever its names
        for package, spec in cfg["packages"].items():
            tree = deb.unpack(package, a.deb_dir or a.out / "debs", a.out / "unpacked", spec.get("paths"))
            split = "test" if package in cfg["test_packages"] else "train"
            rows += package_noises(package, spec, tree, a.out, cfg, split, seen)
    except (deb.SourceConfigError, RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        print(f"real_noise.py: {exc}", file=sys.stderr)
        return 1
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        print(f"real_noise.py: two files give the id {next(i for i in ids if ids.count(i) > 1)}", file=sys.stderr)
        return 1
    if not rows:
        print(f"real_noise.py: no noise found in the packages of {a.conf}", file=sys.stderr)
        return 1
    deb.write_list(a.out / "noise_list.tsv", COLUMNS, rows)
    print(f"real_noise.py: {a.out / 'noise_list.tsv'}: {len(rows)} noises, "
          f"{sum(r['split'] == 'test' for r in rows)} of them for test only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
