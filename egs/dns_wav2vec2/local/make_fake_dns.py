#!/usr/bin/env python3
"""A stand-in DNS Challenge + LibriSpeech tree, in the real layouts, from mini-corpus sources.

Nobody can download DNS here, yet ``run.sh --corpus dns`` has to be run end to end, and its
time and disk measured against hours of audio. This writes, from the source dirs that the mini
corpus's stage 0 made (``data/local/mini/{train,valid,test}``, TTS speech and procedural noise):

- ``OUT/DNS/datasets/clean/read_speech/book_BBBBB_chp_CCCC_reader_RRRRR_K.wav``: the training and
  validation speech of each voice joined into clips of ``--clip-seconds``, 48 kHz 16-bit like the
  Interspeech 2021 full-band release, ``--train-hours`` in all. Each voice reads as
  ``--readers-per-voice`` readers (DNS has thousands; the reader id is the speaker). When the mini
  speech is shorter than the hours asked for it is used again in another order (said on stderr):
  enough for timing and disk, not for training a better model.
- ``OUT/DNS/datasets/noise/<noise id>_K.wav``: every mini noise cut into ``--noise-seconds`` clips (48 kHz).
- ``OUT/LibriSpeech/test-clean/<spk>/<chapter>/<spk>-<chapter>-<nnnn>.flac`` and
  ``<spk>-<chapter>.trans.txt``: the mini test speech (16 kHz FLAC), transcripts upper-cased
  without punctuation as LibriSpeech writes them.

Then ``DNS_ROOT=OUT/DNS/datasets LIBRISPEECH_ROOT=OUT/LibriSpeech ./run.sh --corpus dns ...``.
Deterministic: the same sources and options write the same tree. Files are written to a
temporary name and renamed, and a finished tree is not rewritten (a rerun resumes).
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from seslib.data import read_kv
from seslib.fileutil import atomic_output

SR_IN, SR_DNS = 16000, 48000


def _write(path: Path, x: np.ndarray, sr: int, fmt: str = "WAV") -> None:
    if not path.is_file():  # (a finished file of an earlier run is kept)
        with atomic_output(path) as tmp:
            sf.write(tmp, x, sr, subtype="PCM_16", format=fmt)


def _read(path: str) -> np.ndarray:
    x, sr = sf.read(path, dtype="float32")
    if sr != SR_IN:
        raise ValueError(f"{path}: {sr} Hz, expected {SR_IN} (a mini-corpus source)")
    return x


def clean_clips(src: Path, hours: float, clip_seconds: float, readers_per_voice: int) -> list[tuple[str, list[str]]]:
    """``(file name, [speech paths])`` of the DNS clean clips: each voice's utterances, in order,
    grouped into clips of about ``clip_seconds``, until ``hours`` are planned."""
    by_voice: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for s in ("train", "valid"):
        scp, spk = read_kv(src / s / "speech.scp"), read_kv(src / s / "speech2spk")
        for u, p in scp.items():
            by_voice[spk[u]].append((p, sf.info(p).frames))
    voices = sorted(by_voice)
    target, planned, clips, rnd = hours * 3600 * SR_IN, 0, [], 0
    while planned < target:
        rng = np.random.default_rng(rnd)
        for v_i, v in enumerate(voices):  # one pass: every voice's speech once, in clips
            utts = by_voice[v] if rnd == 0 else [by_voice[v][i] for i in rng.permutation(len(by_voice[v]))]
            clip, n = [], 0
            for p, frames in utts:
                clip.append(p)
                n += frames
                if n >= clip_seconds * SR_IN or (p, frames) == utts[-1]:
                    k = len(clips)
                    reader = 100 * (v_i + 1) + k % readers_per_voice
                    clips.append((f"book_{k // 20:05d}_chp_{k % 20:04d}_reader_{reader:05d}_{rnd}.wav", clip))
                    planned += n
                    clip, n = [], 0
                    if planned >= target:
                        return clips
        rnd += 1
        print(f"make_fake_dns.py: the mini speech ({planned / SR_IN / 3600:.2f} h so far) is shorter than "
              f"{hours} h: using it again in another order (pass {rnd + 1})", file=sys.stderr)
    return clips


def librispeech_text(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^A-Z' ]", " ", text.upper())).strip()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mini-src", required=True, type=Path,
                   help="source dirs of the mini corpus (stage 0's data/local/mini, or synth_sources --out)")
    p.add_argument("--out", required=True, type=Path, help="where DNS/ and LibriSpeech/ are written")
    p.add_argument("--train-hours", type=float, required=True, help="hours of DNS clean read speech to write")
    p.add_argument("--clip-seconds", type=float, default=30.0, help="length of a clean clip (default 30)")
    p.add_argument("--readers-per-voice", type=int, default=8, help="DNS readers each TTS voice stands for (default 8)")
    p.add_argument("--noise-seconds", type=float, default=10.0, help="length of a noise clip (default 10)")
    a = p.parse_args(argv)
    for s in ("train", "valid", "test"):
        if not (a.mini_src / s / "speech.scp").is_file():
            print(f"make_fake_dns.py: {a.mini_src / s / 'speech.scp'} does not exist: give a mini source dir "
                  "(./run.sh --corpus mini --stop-stage 0 writes data/local/mini)", file=sys.stderr)
            return 1
    dns = a.out / "DNS" / "datasets"
    clips = clean_clips(a.mini_src, a.train_hours, a.clip_seconds, a.readers_per_voice)
    gap = np.zeros(int(0.3 * SR_IN), np.float32)
    for i, (name, paths) in enumerate(clips):
        out = dns / "clean" / "read_speech" / name
        if not out.is_file():
            x = np.concatenate([np.concatenate([_read(q), gap]) for q in paths])
            _write(out, soxr.resample(x, SR_IN, SR_DNS), SR_DNS)
        if (i + 1) % 100 == 0 or i + 1 == len(clips):
            print(f"make_fake_dns.py: clean clips {i + 1}/{len(clips)}", flush=True)
    noises = {}
    for s in ("train", "valid", "test"):
        noises.update(read_kv(a.mini_src / s / "noise.scp"))
    step = int(a.noise_seconds * SR_IN)
    for nid, path in sorted(noises.items()):
        x = _read(path)
        for k in range(max(1, len(x) // step)):
            _write(dns / "noise" / f"{nid}_{k}.wav", soxr.resample(x[k * step:(k + 1) * step], SR_IN, SR_DNS), SR_DNS)
    print(f"make_fake_dns.py: noise: {len(noises)} files cut into {a.noise_seconds:g} s clips", flush=True)
    scp, spk, text = (read_kv(a.mini_src / "test" / f) for f in ("speech.scp", "speech2spk", "speech.text"))
    chapters: dict[str, list[str]] = defaultdict(list)
    for u in sorted(scp):
        chapters[spk[u]].append(u)
    for i, (voice, utts) in enumerate(sorted(chapters.items())):
        sid, chap = str(1000 + i), str(20000 + i)
        d = a.out / "LibriSpeech" / "test-clean" / sid / chap
        lines = []
        for n, u in enumerate(utts):
            uid = f"{sid}-{chap}-{n:04d}"
            _write(d / f"{uid}.flac", _read(scp[u]), SR_IN, "FLAC")
            lines.append(f"{uid} {librispeech_text(text[u])}")
        (d / f"{sid}-{chap}.trans.txt").write_text("\n".join(lines) + "\n")
    hours = sum(sf.info(str(f)).duration for f in (dns / "clean" / "read_speech").glob("*.wav")) / 3600
    print(f"make_fake_dns.py: {dns}: {hours:.2f} h of clean speech in {len(clips)} clips; "
          f"{a.out / 'LibriSpeech'}: {len(scp)} test-clean utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
