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

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from seslib import audio
from seslib.fileutil import atomic_write_text

#: kept for an independent check outside the project: never read here
RESERVED = ("sonic-pi-samples", "moonshine", "pysptk")
AUDIO = (".wav", ".ogg", ".oga", ".flac", ".opus")
DEFAULTS = {"min_seconds": 1.0, "max_seconds": 30.0, "silence_db": -55.0, "packages": {}, "test_packages": []}
COLUMNS = ("id", "path", "seconds", "category", "package", "licence", "split")


class NoiseConfigError(ValueError):
    pass


def load_conf(path: Path) -> dict:
    cfg = {**DEFAULTS, **(yaml.safe_load(path.read_text()) or {})}
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        raise NoiseConfigError(f"{path}: unknown keys {unknown}; known: {sorted(DEFAULTS)}")
    for name, p in cfg["packages"].items():
        if any(r in name for r in RESERVED):
            raise NoiseConfigError(f"{path}: package {name} is reserved for a check outside this project")
        for key in ("licence", "category"):
            if not (p or {}).get(key):
                raise NoiseConfigError(f"{path}: package {name} needs a '{key}'")
    missing = sorted(set(cfg["test_packages"]) - set(cfg["packages"]))
    if missing:
        raise NoiseConfigError(f"{path}: test_packages {missing} are not among the packages")
    return cfg


def unpack(package: str, deb_dir: Path, work: Path) -> Path:
    """The unpacked tree of ``package`` (its .deb fetched into ``deb_dir`` if missing)."""
    tree = work / package
    if (tree / ".unpacked").is_file():
        return tree
    debs = sorted(deb_dir.glob(f"{package}_*.deb"))
    if not debs:
        deb_dir.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["apt-get", "download", package], cwd=deb_dir, capture_output=True, text=True)
        debs = sorted(deb_dir.glob(f"{package}_*.deb"))
        if r.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download {package} failed: {r.stderr.strip()[-300:]}")
    tmp = work / f".{package}.tmp"  # unpacked beside, renamed when complete
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(tmp)], check=True)
    (tmp / ".unpacked").write_text(debs[-1].name + "\n")
    shutil.rmtree(tree, ignore_errors=True)
    os.replace(tmp, tree)
    return tree


def category(rel: str, spec: dict) -> str:
    for pattern, cat in (spec.get("rules") or {}).items():
        if re.search(pattern, rel, re.IGNORECASE):
            return cat
    return spec["category"]


def _piece_row(package: str, spec: dict, out: Path, uid_stem: str, rel: str, piece: np.ndarray, split: str) -> dict:
    dst = out / "wavs" / package / f"{uid_stem}.wav"
    if not dst.is_file():
        audio.write_audio(dst, piece)
    return {"id": f"{package}-{uid_stem}", "path": str(dst.resolve()),
            "seconds": f"{len(piece) / audio.SAMPLE_RATE:.2f}", "category": category(rel, spec), "package": package,
            "licence": spec["licence"], "split": split}


def _stem(rel: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", str(Path(rel).with_suffix(""))).strip("_")


def package_noises(package: str, spec: dict, tree: Path, out: Path, cfg: dict, split: str) -> list[dict]:
    """Rows of the noise list for one unpacked package, writing its pieces under ``out``.

    Files longer than ``max_seconds`` are cut into pieces; files shorter than ``min_seconds``
    (key presses, footsteps, clicks) are joined, in path order with 0.05-0.5 s of silence between
    them, per directory, into sequences of up to ``max_seconds`` (a run of key presses is typing).
    """
    roots = [tree / p for p in spec.get("paths") or ["."]]
    files = sorted(f for r in roots if r.exists() for f in r.rglob("*") if f.suffix.lower() in AUDIO and f.is_file())
    sr = audio.SAMPLE_RATE
    step, shortest = int(cfg["max_seconds"] * sr), int(cfg["min_seconds"] * sr)
    rows, dropped, short = [], 0, {}
    loud = lambda x: 10 * np.log10(audio.active_power(x) + 1e-12) >= cfg["silence_db"]  # noqa: E731
    for f in files:
        rel = str(f.relative_to(tree))
        try:
            x = audio.read_audio(f)
        except audio.AudioError as exc:
            print(f"real_noise.py: {package}: skipped {rel}: {exc}", file=sys.stderr)
            dropped += 1
            continue
        if len(x) < shortest:
            if loud(x):
                short.setdefault(str(Path(rel).parent), []).append(x)
            else:
                dropped += 1
            continue
        for k in range(-(-len(x) // step)):
            piece = x[k * step:(k + 1) * step]
            if len(piece) >= shortest and loud(piece):
                rows.append(_piece_row(package, spec, out, f"{_stem(rel)}-{k}", rel, piece, split))
            else:
                dropped += 1
    for folder, clips in sorted(short.items()):  # short sounds joined into sequences
        rng = np.random.default_rng(list(folder.encode()))
        parts, n, k = [], 0, 0
        for i, c in enumerate(clips):
            gap = np.zeros(int(rng.uniform(0.05, 0.5) * sr), np.float32)
            parts += [c, gap]
            n += len(c) + len(gap)
            if n >= step or i == len(clips) - 1:
                seq = np.concatenate(parts)[:step]
                if len(seq) >= shortest:
                    rows.append(_piece_row(package, spec, out, f"{_stem(folder + '/joined')}-{k}", folder + "/",
                                           seq, split))
                    k += 1
                else:
                    dropped += len(parts) // 2
                parts, n = [], 0
    print(f"real_noise.py: {package}: {len(rows)} pieces from {len(files)} files "
          f"({sum(float(r['seconds']) for r in rows) / 3600:.2f} h; {dropped} silent, unreadable or too short dropped)")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conf", required=True, type=Path, help="YAML: packages, licences, categories, test_packages")
    p.add_argument("--out", required=True, type=Path, help="output dir (wavs/, noise_list.tsv)")
    p.add_argument("--deb-dir", type=Path, help="where the .deb files are (fetched there if missing; default OUT/debs)")
    a = p.parse_args(argv)
    try:
        cfg = load_conf(a.conf)
        rows = []
        for package, spec in cfg["packages"].items():
            tree = unpack(package, a.deb_dir or a.out / "debs", a.out / "unpacked")
            split = "test" if package in cfg["test_packages"] else "train"
            rows += package_noises(package, spec, tree, a.out, cfg, split)
    except (NoiseConfigError, RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        print(f"real_noise.py: {exc}", file=sys.stderr)
        return 1
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        print(f"real_noise.py: two files give the id {next(i for i in ids if ids.count(i) > 1)}", file=sys.stderr)
        return 1
    if not rows:
        print(f"real_noise.py: no noise found in the packages of {a.conf}", file=sys.stderr)
        return 1
    lines = ["\t".join(COLUMNS)] + ["\t".join(r[c] for c in COLUMNS) for r in sorted(rows, key=lambda r: r["id"])]
    atomic_write_text(a.out / "noise_list.tsv", "\n".join(lines) + "\n")
    print(f"real_noise.py: {a.out / 'noise_list.tsv'}: {len(rows)} noises, "
          f"{sum(r['split'] == 'test' for r in rows)} of them for test only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
