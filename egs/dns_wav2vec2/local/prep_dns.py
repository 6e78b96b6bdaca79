#!/usr/bin/env python3
"""Source dirs for the paper's corpora: DNS Challenge + LibriSpeech test-clean.

Layouts read:

- DNS: every release's layout (``local/dns_layouts.py``: 2020, DNS 3 wide band as tarballs or
  git LFS, DNS 3/4/5 full band), found under ``--dns-root`` (the folder downloaded into) or named
  with ``--dns-clean-dir`` / ``--dns-noise-dir``. Read speech only (``read_speech`` where the
  release has it; ``--dns-clean-subdirs`` names other folders). The reader id in file names like
  ``book_00012_chp_0034_reader_05678_9.wav`` is the speaker; files without one use their folder.
  Full-band (48 kHz) files are resampled when read.
- LibriSpeech: ``<librispeech-root>/test-clean/<spk>/<chapter>/<spk>-<chapter>-<n>.flac``
  with ``<spk>-<chapter>.trans.txt`` transcripts.

Splits (paper, Sec. 3.1): train/valid from DNS clean speech, readers disjoint
(``--valid-fraction`` of readers held out); test = ``--test-utts`` LibriSpeech test-clean
utterances. Every data choice is logged and written to ``OUT/prep_choices.json``:

- *silent noise*: noise clips whose level is below ``--silent-noise-dbfs`` (all-zero clips
  included) are dropped, with their count and names;
- *readers shared with the test set*: DNS and LibriSpeech are both LibriVox recordings, and both
  keep the LibriVox reader id; DNS readers whose id is a speaker of the LibriSpeech test-clean
  tree are left out of train/valid (``--keep-test-readers`` keeps them);
- *test noise*: the paper takes it "from the test sets" of DNS. In order: the 2020 release's
  synthetic no-reverb test set (each noisy clip minus its clean clip, written to
  ``OUT/test/noise/``), ``--test-noise-dir``, else ``--test-noise-fraction`` of the training noise
  held out, *grouped by source recording* (the releases cut one recording into ``<name>_<k>``
  clips: a recording's clips all go to one side). ``OUT/test/noise_source`` says which.

Writes ``OUT/{train,valid,test}/`` source dirs (see seslib.mixing).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dns_layouts import find  # noqa: E402

from seslib import logutil  # noqa: E402
from seslib.data import write_kv  # noqa: E402

READER = re.compile(r"reader_(\d+)")
CLIP = re.compile(r"_\d+$")  # the releases cut a source recording into <name>_<k> clips


def scan_dns_clean(dirs) -> dict[str, tuple[str, str]]:
    """Speech id -> (path, speaker) for the DNS clean speech under ``dirs``."""
    out = {}
    for d in map(Path, dirs):
        for p in sorted(d.rglob("*.wav")):
            m = READER.search(p.stem)
            spk = f"dns{m.group(1)}" if m else f"dns_{p.parent.name}"
            sid = f"{spk}-{re.sub(r'[^A-Za-z0-9_]', '_', p.stem)}"
            if sid in out:
                raise ValueError(f"two DNS clean files give the id {sid}: {out[sid][0]} and {p}")
            out[sid] = (str(p.resolve()), spk)
    if not out:
        raise FileNotFoundError(f"no .wav files under {', '.join(map(str, dirs))}")
    return out


def scan_dns_noise(noise: Path, prefix: str = "noise") -> dict[str, str]:
    """Noise id -> path for the wavs under ``noise`` (other files, such as a Readme, are not noise)."""
    files = sorted(noise.rglob("*.wav")) if noise.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no .wav files under {noise}")
    return {f"{prefix}_{i:06d}_{re.sub(r'[^A-Za-z0-9_]', '_', p.stem)[:40]}": str(p.resolve())
            for i, p in enumerate(files)}


def level_dbfs(path: str) -> float:
    """RMS level of a whole file in dBFS (-inf for all zeros), read in blocks at its own rate."""
    total, n = 0.0, 0
    for block in sf.blocks(path, blocksize=1 << 18, dtype="float64", always_2d=True):
        total += float(np.sum(block.mean(axis=1) ** 2))
        n += len(block)
    return 10 * np.log10(total / n) if n and total > 0 else float("-inf")


def silent_noise(noise: dict[str, str], threshold_db: float, nj: int) -> list[str]:
    """The ids of the noise clips below ``threshold_db`` dBFS (each file read once, ``nj`` processes)."""
    ids = sorted(noise)
    with Pool(max(1, nj)) as pool:
        levels = pool.map(level_dbfs, [noise[k] for k in ids], chunksize=64)
    return [k for k, db in zip(ids, levels) if db < threshold_db]


def source_recording(path: str) -> str:
    """The recording a noise clip was cut from: its name without the ``_<k>`` clip number."""
    return CLIP.sub("", Path(path).stem)


def hold_out_noise(noise: dict[str, str], fraction: float, rng) -> set[str]:
    """Noise ids held out for the test set: whole source recordings, drawn until ``fraction`` of
    the clips are held out (at least one recording, never all)."""
    groups: dict[str, list[str]] = {}
    for k in sorted(noise):
        groups.setdefault(source_recording(noise[k]), []).append(k)
    if len(groups) < 2:
        raise ValueError("need noise from at least 2 source recordings (one for test, one for training)")
    names = sorted(groups)
    held: set[str] = set()
    for i in rng.permutation(len(names)):
        if held and len(held) >= fraction * len(noise):
            break
        if len(held) + len(groups[names[i]]) >= len(noise):
            continue
        held |= set(groups[names[i]])
    return held


def test_set_noise(test_set: Path, out: Path) -> dict[str, str]:
    """Noise clips of a synthetic test set: each ``noisy/*fileid_<n>.wav`` minus ``clean/clean_fileid_<n>.wav``
    (the synthesizer adds the scaled noise to the scaled clean speech, both saved), written to ``out``."""
    fid = re.compile(r"fileid_(\d+)")
    clean = {m.group(1): p for p in (test_set / "clean").glob("*.wav") if (m := fid.search(p.stem))}
    pairs = sorted(((m.group(1), p) for p in (test_set / "noisy").glob("*.wav") if (m := fid.search(p.stem))),
                   key=lambda x: int(x[0]))
    result = {}
    for n, noisy in pairs:
        if n not in clean:
            continue
        y, sr = sf.read(str(noisy), dtype="float32")
        x, sr2 = sf.read(str(clean[n]), dtype="float32")
        if sr != sr2 or len(x) != len(y):
            raise ValueError(f"{noisy} and {clean[n]} are not a pair (rates {sr}/{sr2}, lengths {len(y)}/{len(x)})")
        path = out / f"testnoise_fileid_{n}.wav"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            sf.write(str(tmp), y - x, sr, subtype="FLOAT", format="WAV")
            tmp.replace(path)
        result[f"testnoise_fileid_{int(n):06d}"] = str(path.resolve())
    if not result:
        raise FileNotFoundError(f"{test_set}: no noisy/clean pairs (noisy/*fileid_N.wav, clean/clean_fileid_N.wav)")
    return result


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


def say(msg: str) -> None:
    print(f"prep_dns.py: {msg}", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dns-root", required=True, help="the folder the DNS data was downloaded into (holds datasets/ "
                                                     "or datasets_fullband/), or one of those")
    p.add_argument("--dns-clean-dir", default=None, help="the clean speech dir instead of the one found under --dns-root")
    p.add_argument("--dns-noise-dir", default=None, help="the noise dir instead of the one found under --dns-root")
    p.add_argument("--librispeech-root", required=True, help="dir holding test-clean/")
    p.add_argument("--out", required=True, help="output dir of the source dirs")
    p.add_argument("--dns-clean-subdirs", nargs="*", default=[],
                   help="folders of the clean dir to use (default read_speech where there is one, else the clean dir)")
    p.add_argument("--valid-fraction", type=float, default=0.02, help="share of readers for validation")
    p.add_argument("--test-noise-dir", default=None,
                   help="noise clips of the test set when the tree has no 2020 synthetic test set")
    p.add_argument("--test-noise-fraction", type=float, default=0.1,
                   help="without test-set noise: share of the training noise clips held out for test, by recording")
    p.add_argument("--silent-noise-dbfs", type=float, default=-60.0,
                   help="noise clips below this RMS level are dropped (default -60; all-zero clips always)")
    p.add_argument("--keep-test-readers", action="store_true",
                   help="keep DNS readers whose LibriVox id is a LibriSpeech test-clean speaker in train/valid")
    p.add_argument("--test-utts", type=int, default=500, help="test-clean utterances in the test set")
    p.add_argument("--nj", type=int, default=2, help="processes reading the noise levels (default 2)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    logutil.setup()
    out = Path(args.out)
    try:
        rel = find(Path(args.dns_root), args.dns_clean_dir, args.dns_noise_dir, args.dns_clean_subdirs)
        say(f"DNS release: {rel.layout}; clean speech {', '.join(map(str, rel.clean_dirs))}; noise {rel.noise_dir}")
        clean = scan_dns_clean(rel.clean_dirs)
        noise = scan_dns_noise(rel.noise_dir)
        libri = scan_librispeech(Path(args.librispeech_root))
        if args.test_noise_dir and not Path(args.test_noise_dir).is_dir():
            raise FileNotFoundError(f"--test-noise-dir {args.test_noise_dir} does not exist")
        if rel.test_set is not None:
            test_noise_files = test_set_noise(rel.test_set, out / "test" / "noise")
            source = f"the DNS 2020 synthetic no-reverb test set, noisy minus clean: {rel.test_set.resolve()}"
        elif args.test_noise_dir:
            test_noise_files = scan_dns_noise(Path(args.test_noise_dir), "testnoise")
            source = f"--test-noise-dir {Path(args.test_noise_dir).resolve()}"
        else:
            test_noise_files, source = {}, None
    except (FileNotFoundError, ValueError) as exc:
        print(f"prep_dns.py: {exc}", file=sys.stderr)
        return 1
    choices = {"layout": rel.layout, "clean_dirs": [str(d) for d in rel.clean_dirs], "noise_dir": str(rel.noise_dir)}
    silent = silent_noise(noise, args.silent_noise_dbfs, args.nj)
    choices["silent_noise_dropped"] = [noise[k] for k in silent]
    noise = {k: v for k, v in noise.items() if k not in set(silent)}
    say(f"noise: {len(silent)} of {len(noise) + len(silent)} clips dropped as silent (below "
        f"{args.silent_noise_dbfs:g} dBFS, all-zero included)")
    libri_speakers = {int(v[1][2:]) for v in libri.values()}
    shared = sorted({spk for _, spk in clean.values() if spk[3:].isdigit() and int(spk[3:]) in libri_speakers})
    choices["readers_shared_with_test_clean"] = shared
    if shared and not args.keep_test_readers:
        clean = {k: v for k, v in clean.items() if v[1] not in set(shared)}
        if not clean:
            print("prep_dns.py: every DNS reader is a LibriSpeech test-clean speaker (--keep-test-readers keeps them)",
                  file=sys.stderr)
            return 1
    say(f"readers: {len(shared)} DNS readers are LibriSpeech test-clean speakers (LibriVox ids: "
        f"{' '.join(s[3:] for s in shared) or 'none'}): "
        + ("kept (--keep-test-readers)" if args.keep_test_readers else "left out of train/valid"))
    choices["readers_shared_kept"] = bool(args.keep_test_readers)
    rng = np.random.default_rng(args.seed)
    readers = sorted({spk for _, spk in clean.values()})
    n_valid = max(1, round(len(readers) * args.valid_fraction)) if len(readers) > 1 else 0
    valid_readers = set(np.array(readers)[rng.permutation(len(readers))[:n_valid]].tolist())
    noise_ids = sorted(noise)
    perm_rng = np.random.default_rng([args.seed, 2])
    try:
        test_noise = set() if test_noise_files else hold_out_noise(noise, args.test_noise_fraction, perm_rng)
    except ValueError as exc:
        print(f"prep_dns.py: {exc}", file=sys.stderr)
        return 1
    if source is None:
        recs = {source_recording(noise[k]) for k in test_noise}
        source = (f"held-out training noise ({len(test_noise)} of {len(noise_ids)} clips, {len(recs)} source "
                  f"recordings, of {rel.noise_dir}; --test-noise-fraction {args.test_noise_fraction:g}; the tree has "
                  "no synthetic test set)")
    libri_ids = sorted(libri)
    if args.test_utts > len(libri_ids):
        print(f"prep_dns.py: --test-utts {args.test_utts} but test-clean has {len(libri_ids)}", file=sys.stderr)
        return 1
    test_ids = sorted(np.array(libri_ids)[rng.permutation(len(libri_ids))[:args.test_utts]].tolist())
    sets = {
        "train": {k: v for k, v in clean.items() if v[1] not in valid_readers},
        "valid": {k: v for k, v in clean.items() if v[1] in valid_readers},
    }
    for name, items in sets.items():
        d = out / name
        write_kv(d / "speech.scp", {k: v[0] for k, v in items.items()})
        write_kv(d / "speech2spk", {k: v[1] for k, v in items.items()})
        write_kv(d / "noise.scp", {k: noise[k] for k in noise_ids if k not in test_noise})
        say(f"{name}: {len(items)} speech files, {len(noise_ids) - len(test_noise)} noise files")
    d = out / "test"
    write_kv(d / "speech.scp", {k: libri[k][0] for k in test_ids})
    write_kv(d / "speech2spk", {k: libri[k][1] for k in test_ids})
    write_kv(d / "speech.text", {k: libri[k][2] for k in test_ids})
    write_kv(d / "noise.scp", test_noise_files or {k: noise[k] for k in sorted(test_noise)})
    (d / "noise_source").write_text(source + "\n", encoding="utf-8")
    choices["test_noise"] = source
    (out / "prep_choices.json").write_text(json.dumps(choices, indent=1) + "\n", encoding="utf-8")
    say(f"test: {len(test_ids)} LibriSpeech test-clean utterances, {len(test_noise_files) or len(test_noise)} "
        f"noise files, {source}; every choice in {out / 'prep_choices.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
