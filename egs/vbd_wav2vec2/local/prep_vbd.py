#!/usr/bin/env python3
"""Pair dirs of VoiceBank-DEMAND (Valentini-Botinhao et al., 2016/2017), the 28-speaker set.

Layout read (the Edinburgh DataShare release, each zip unpacked under ``--root``):

- ``clean_trainset_28spk_wav/p226_001.wav`` ... and ``noisy_trainset_28spk_wav/`` (same names),
- ``clean_testset_wav/p232_001.wav`` ... and ``noisy_testset_wav/``,
- transcripts ``trainset_28spk_txt/p226_001.txt`` and ``testset_txt/p232_001.txt`` (one line each;
  optional: without them the sets have no ``text`` and WER is not scored).

The recordings are 48 kHz; the recipe reads them at 16 kHz (soxr, when read). Writes pair dirs
(:mod:`seslib.premixed`) ``OUT/{train,valid,test}/{wav.scp,spk1.scp,utt2spk,text}``: ``valid``
is the training speakers named by ``--valid-speakers`` (held out by speaker), ``train`` the
other 26, ``test`` the two test speakers (p232, p257). Utterance ids are the file names
(``p226_001``), so they start with the speaker.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seslib import logutil
from seslib.data import write_kv

SETS = {"train": ("clean_trainset_28spk_wav", "noisy_trainset_28spk_wav", "trainset_28spk_txt"),
        "test": ("clean_testset_wav", "noisy_testset_wav", "testset_txt")}


def scan(root: Path, clean_dir: str, noisy_dir: str, txt_dir: str) -> dict[str, tuple[str, str, str | None]]:
    """utt -> (noisy path, clean path, transcript or None); ValueError naming what is missing."""
    clean, noisy = root / clean_dir, root / noisy_dir
    for d in (clean, noisy):
        if not d.is_dir():
            raise ValueError(f"{d} does not exist: set VBD_ROOT in db.sh to the dir that holds the unpacked "
                             f"{clean_dir}/ and {noisy_dir}/")
    noisy_files = {p.stem: p for p in sorted(noisy.glob("*.wav"))}
    clean_files = {p.stem: p for p in sorted(clean.glob("*.wav"))}
    if not noisy_files:
        raise ValueError(f"{noisy}: no .wav files")
    missing = sorted(set(noisy_files) - set(clean_files))
    if missing:
        raise ValueError(f"{clean}: no clean file for {len(missing)} noisy files, e.g. {missing[0]}.wav")
    extra = sorted(set(clean_files) - set(noisy_files))
    if extra:
        raise ValueError(f"{noisy}: no noisy file for {len(extra)} clean files, e.g. {extra[0]}.wav")
    txt = root / txt_dir
    out = {}
    for utt, p in noisy_files.items():
        if "_" not in utt:
            raise ValueError(f"{p}: file name is not <speaker>_<number>.wav")
        t = txt / f"{utt}.txt"
        text = " ".join(t.read_text(encoding="utf-8", errors="replace").split()) if t.is_file() else None
        out[utt] = (str(p.resolve()), str(clean_files[utt].resolve()), text)
    return out


def write_pair_dir(d: Path, items: dict) -> None:
    d.mkdir(parents=True, exist_ok=True)
    write_kv(d / "wav.scp", {u: v[0] for u, v in items.items()})
    write_kv(d / "spk1.scp", {u: v[1] for u, v in items.items()})
    write_kv(d / "utt2spk", {u: u.split("_")[0] for u in items})
    texts = {u: v[2] for u, v in items.items() if v[2] is not None}
    (d / "text").unlink(missing_ok=True)
    if len(texts) == len(items):
        write_kv(d / "text", texts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="local/prep_vbd.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="VoiceBank-DEMAND dir (VBD_ROOT in db.sh)")
    p.add_argument("--out", required=True, help="output dir of the pair dirs (train, valid, test)")
    p.add_argument("--valid-speakers", default="p226 p287",
                   help="training speakers held out for validation, separated by spaces or commas "
                        "(default 'p226 p287')")
    args = p.parse_args(argv)
    logutil.setup()
    root, out = Path(args.root), Path(args.out)
    try:
        train = scan(root, *SETS["train"])
        test = scan(root, *SETS["test"])
    except ValueError as exc:
        print(f"prep_vbd.py: {exc}", file=sys.stderr)
        return 1
    valid_spk = set(args.valid_speakers.replace(",", " ").split())
    speakers = {u.split("_")[0] for u in train}
    unknown = sorted(valid_spk - speakers)
    if unknown or valid_spk == speakers:
        print(f"prep_vbd.py: --valid-speakers {args.valid_speakers!r}: "
              + (f"{unknown} are not training speakers ({len(speakers)} found)" if unknown
                 else "no speaker would be left for training"), file=sys.stderr)
        return 1
    sets = {"train": {u: v for u, v in train.items() if u.split("_")[0] not in valid_spk},
            "valid": {u: v for u, v in train.items() if u.split("_")[0] in valid_spk},
            "test": test}
    for name, items in sets.items():
        write_pair_dir(out / name, items)
        n_spk = len({u.split('_')[0] for u in items})
        print(f"prep_vbd.py: {out / name}: {len(items)} pairs, {n_spk} speakers"
              + ("" if (out / name / "text").is_file() else ", no transcripts"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
