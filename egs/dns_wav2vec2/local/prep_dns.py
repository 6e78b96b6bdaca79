#!/usr/bin/env python3
"""Source dirs for the paper's corpora: DNS Challenge (Interspeech 2021) + LibriSpeech test-clean.

Layouts read:

- DNS: ``<dns-root>/clean/**.wav`` (read speech; ``clean/read_speech`` when present, so
  that singing, emotional and other-language speech are left out unless
  ``--dns-clean-subdirs`` names them) and ``<dns-root>/noise/**.wav``. The reader id in
  file names like ``book_00012_chp_0034_reader_05678_9.wav`` is the speaker; files
  without one use their folder as speaker. Full-band (48 kHz) files are resampled when
  read.
- LibriSpeech: ``<librispeech-root>/test-clean/<spk>/<chapter>/<spk>-<chapter>-<n>.flac``
  with ``<spk>-<chapter>.trans.txt`` transcripts.

Splits (paper, Sec. 3.1): train/valid from DNS clean speech, readers disjoint
(``--valid-fraction`` of readers held out); test = ``--test-utts`` LibriSpeech test-clean
utterances. Test noise: the paper takes it "from the test sets" of DNS; so when the DNS tree
has a synthetic test set with its noise clips (``--test-noise-dir``, by default the first of
:data:`TEST_NOISE_DIRS` under ``<dns-root>`` that exists), the test set mixes those and
training keeps every file of ``noise/``; otherwise (a recipe choice, logged and written to
``OUT/test/noise_source``) ``--test-noise-fraction`` of the training noise files are held
out for the test set only. Writes ``OUT/{train,valid,test}/`` source dirs (see seslib.mixing).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from seslib import logutil
from seslib.data import write_kv

READER = re.compile(r"reader_(\d+)")
#: where DNS releases keep the noise clips of their synthetic test set (Interspeech 2020 layout)
TEST_NOISE_DIRS = ("test_set/synthetic/no_reverb/noise", "test_set/synthetic/noise")


def scan_dns_clean(root: Path, subdirs: list[str]) -> dict[str, tuple[str, str]]:
    """Speech id -> (path, speaker) for DNS clean speech."""
    clean = root / "clean"
    if not clean.is_dir():
        raise FileNotFoundError(f"{clean} does not exist: set DNS_ROOT in db.sh to the DNS 'datasets' dir")
    dirs = [clean / s for s in subdirs] if subdirs else (
        [clean / "read_speech"] if (clean / "read_speech").is_dir() else [clean])
    out = {}
    for d in dirs:
        if not d.is_dir():
            raise FileNotFoundError(f"{d} does not exist")
        for p in sorted(d.rglob("*.wav")):
            m = READER.search(p.stem)
            spk = f"dns{m.group(1)}" if m else f"dns_{p.parent.name}"
            sid = f"{spk}-{re.sub(r'[^A-Za-z0-9_]', '_', p.stem)}"
            if sid in out:
                raise ValueError(f"two DNS clean files give the id {sid}: {out[sid][0]} and {p}")
            out[sid] = (str(p.resolve()), spk)
    if not out:
        raise FileNotFoundError(f"no .wav files under {dirs}")
    return out


def scan_dns_noise(root: Path, noise: Path | None = None, prefix: str = "noise") -> dict[str, str]:
    """Noise id -> path for the wavs under ``noise`` (default ``<root>/noise``)."""
    noise = noise or root / "noise"
    files = sorted(noise.rglob("*.wav")) if noise.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no .wav files under {noise}")
    return {f"{prefix}_{i:06d}_{re.sub(r'[^A-Za-z0-9_]', '_', p.stem)[:40]}": str(p.resolve())
            for i, p in enumerate(files)}


def find_test_noise_dir(root: Path, given: str | None) -> Path | None:
    """``--test-noise-dir`` (must exist), else the first of :data:`TEST_NOISE_DIRS` present, else None."""
    if given:
        if not Path(given).is_dir():
            raise FileNotFoundError(f"--test-noise-dir {given} does not exist")
        return Path(given)
    return next((root / d for d in TEST_NOISE_DIRS if (root / d).is_dir()), None)


def scan_librispeech(root: Path, subset: str = "test-clean") -> dict[str, tuple[str, str, str]]:
    """Utterance id -> (path, speaker, transcript)."""
    base = root / subset
    if not base.is_dir():
        raise FileNotFoundError(f"{base} does not exist: set LIBRISPEECH_ROOT in db.sh")
    out = {}
    for trans in sorted(base.glob("*/*/*.trans.txt")):
        for line in trans.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            uid, text = line.split(maxsplit=1)
            flac = trans.parent / f"{uid}.flac"
            if not flac.is_file():
                raise FileNotFoundError(f"{trans}: utterance {uid} has no audio file {flac}")
            out[f"ls{uid}"] = (str(flac.resolve()), f"ls{uid.split('-')[0]}", text.strip())
    if not out:
        raise FileNotFoundError(f"no transcripts (*.trans.txt) under {base}")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dns-root", required=True, help="DNS 'datasets' dir (holds clean/ and noise/)")
    p.add_argument("--librispeech-root", required=True, help="dir holding test-clean/")
    p.add_argument("--out", required=True, help="output dir of the source dirs")
    p.add_argument("--dns-clean-subdirs", nargs="*", default=[],
                   help="subdirs of clean/ to use (default read_speech if present, else all)")
    p.add_argument("--valid-fraction", type=float, default=0.02, help="share of readers for validation")
    p.add_argument("--test-noise-dir", default=None,
                   help="noise clips of the test set (default: the DNS tree's synthetic test-set noise, "
                        f"{' or '.join(TEST_NOISE_DIRS)} under --dns-root, when present)")
    p.add_argument("--test-noise-fraction", type=float, default=0.1,
                   help="without a test-set noise dir: share of the training noise files held out for test")
    p.add_argument("--test-utts", type=int, default=500, help="test-clean utterances in the test set")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    logutil.setup()
    try:
        clean = scan_dns_clean(Path(args.dns_root), args.dns_clean_subdirs)
        noise = scan_dns_noise(Path(args.dns_root))
        test_dir = find_test_noise_dir(Path(args.dns_root), args.test_noise_dir)
        test_noise_files = scan_dns_noise(Path(args.dns_root), test_dir, "testnoise") if test_dir else {}
        libri = scan_librispeech(Path(args.librispeech_root))
    except (FileNotFoundError, ValueError) as exc:
        print(f"prep_dns.py: {exc}", file=sys.stderr)
        return 1
    rng = np.random.default_rng(args.seed)
    readers = sorted({spk for _, spk in clean.values()})
    n_valid = max(1, round(len(readers) * args.valid_fraction)) if len(readers) > 1 else 0
    valid_readers = set(np.array(readers)[rng.permutation(len(readers))[:n_valid]].tolist())
    noise_ids = sorted(noise)
    n_test_noise = max(1, round(len(noise_ids) * args.test_noise_fraction))
    perm = rng.permutation(len(noise_ids))
    test_noise = set() if test_dir else {noise_ids[i] for i in perm[:n_test_noise]}
    if len(test_noise) == len(noise_ids):
        print("prep_dns.py: need at least 2 noise files (one for test, one for training)", file=sys.stderr)
        return 1
    libri_ids = sorted(libri)
    if args.test_utts > len(libri_ids):
        print(f"prep_dns.py: --test-utts {args.test_utts} but test-clean has {len(libri_ids)}", file=sys.stderr)
        return 1
    test_ids = sorted(np.array(libri_ids)[rng.permutation(len(libri_ids))[:args.test_utts]].tolist())
    out = Path(args.out)
    sets = {
        "train": {k: v for k, v in clean.items() if v[1] not in valid_readers},
        "valid": {k: v for k, v in clean.items() if v[1] in valid_readers},
    }
    for name, items in sets.items():
        d = out / name
        write_kv(d / "speech.scp", {k: v[0] for k, v in items.items()})
        write_kv(d / "speech2spk", {k: v[1] for k, v in items.items()})
        write_kv(d / "noise.scp", {k: noise[k] for k in noise_ids if k not in test_noise})
        print(f"prep_dns.py: {name}: {len(items)} speech files, {len(noise_ids) - len(test_noise)} noise files")
    d = out / "test"
    write_kv(d / "speech.scp", {k: libri[k][0] for k in test_ids})
    write_kv(d / "speech2spk", {k: libri[k][1] for k in test_ids})
    write_kv(d / "speech.text", {k: libri[k][2] for k in test_ids})
    if test_dir:
        write_kv(d / "noise.scp", test_noise_files)
        source = f"the DNS test set's noise clips: {test_dir.resolve()}"
    else:
        write_kv(d / "noise.scp", {k: noise[k] for k in sorted(test_noise)})
        source = (f"held-out training noise ({len(test_noise)} of {len(noise_ids)} files of {args.dns_root}/noise, "
                  f"--test-noise-fraction {args.test_noise_fraction:g}; the tree has no test-set noise dir)")
    (d / "noise_source").write_text(source + "\n", encoding="utf-8")
    print(f"prep_dns.py: test: {len(test_ids)} LibriSpeech test-clean utterances, "
          f"{len(test_noise_files) or len(test_noise)} noise files, {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
