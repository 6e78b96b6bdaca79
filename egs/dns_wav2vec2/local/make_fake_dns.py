#!/usr/bin/env python3
"""A stand-in DNS Challenge + LibriSpeech tree, in a real release's layout, from mini-corpus sources.

Nobody can download DNS here, yet ``run.sh --corpus dns`` has to be run end to end, and its
time and disk measured against hours of audio. This writes, from the source dirs that the mini
corpus's stage 0 made (``data/local/mini/{train,valid,test}``, TTS speech and procedural noise),
a tree in the layout of one release (``--layout``, local/dns_layouts.py; default ``fullband``, what
today's download scripts fetch):

- clean read speech, ``book_BBBBB_chp_CCCC_reader_RRRRR_K.wav``: the training and validation
  speech of each voice joined into clips of ``--clip-seconds``, ``--train-hours`` in all, at the
  release's rate (48 kHz full band, 16 kHz otherwise), flat in ``datasets/clean`` for 2020, in
  ``read_speech`` otherwise, with an other-language folder beside it (not read speech). Each
  voice reads as ``--readers-per-voice`` readers (the reader id is the speaker); one clip's
  reader id is a LibriSpeech test-clean speaker's (both corpora keep LibriVox ids). When the mini
  speech is shorter than the hours asked for it is used again in another order (said on
  stderr): enough for timing and disk, not for training a better model.
- noise: every mini noise cut into ``--noise-seconds`` clips ``<recording>_<k>.wav`` (so one
  recording gives several clips, as the releases cut theirs), and the real set's quirks: an
  all-zero clip, a near-silent one (-80 dBFS), a clip shorter than a mixture segment, and a
  ``Readme.md`` among the clips.
- 2020 only: the synthetic no-reverb test set, ``test_set/synthetic/no_reverb/{clean,noisy}``
  (``clean_fileid_N.wav`` and ``..._fileid_N.wav``, 16 kHz): test speech plus test noise.
- ``OUT/LibriSpeech/test-clean/<spk>/<chapter>/<spk>-<chapter>-<nnnn>.flac`` and
  ``<spk>-<chapter>.trans.txt``: the mini test speech (16 kHz FLAC), transcripts upper-cased
  without punctuation as LibriSpeech writes them.

Then ``DNS_ROOT=OUT/DNS LIBRISPEECH_ROOT=OUT/LibriSpeech ./run.sh --corpus dns ...``.
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
#: (clean speech dir, noise dir, rate) of each layout, below OUT/DNS (local/dns_layouts.py)
LAYOUTS = {"2020": ("datasets/clean", "datasets/noise", 16000),
           "wideband": ("datasets/clean/read_speech", "datasets/noise", 16000),
           "lfs": ("datasets/wideband/clean_wideband/read_speech", "datasets/wideband/noise_wideband", 16000),
           "fullband": ("datasets_fullband/clean_fullband/read_speech", "datasets_fullband/noise_fullband", 48000)}
LIBRI_FIRST_SPEAKER = 1000  # the stand-in LibriSpeech speakers are 1000, 1001, ...


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
                    reader = LIBRI_FIRST_SPEAKER if k == 1 else 100 * (v_i + 1) + k % readers_per_voice
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
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="fullband",
                   help="the release whose folders, names and rate the tree has (default fullband)")
    a = p.parse_args(argv)
    for s in ("train", "valid", "test"):
        if not (a.mini_src / s / "speech.scp").is_file():
            print(f"make_fake_dns.py: {a.mini_src / s / 'speech.scp'} does not exist: give a mini source dir "
                  "(./run.sh --corpus mini --stop-stage 0 writes data/local/mini)", file=sys.stderr)
            return 1
    clean_rel, noise_rel, rate = LAYOUTS[a.layout]
    root = a.out / "DNS"
    clean_dir, noise_dir = root / clean_rel, root / noise_rel

    def at_rate(x):
        return soxr.resample(x, SR_IN, rate) if rate != SR_IN else x
    clips = clean_clips(a.mini_src, a.train_hours, a.clip_seconds, a.readers_per_voice)
    gap = np.zeros(int(0.3 * SR_IN), np.float32)
    for i, (name, paths) in enumerate(clips):
        out = clean_dir / name
        if not out.is_file():
            x = np.concatenate([np.concatenate([_read(q), gap]) for q in paths])
            _write(out, at_rate(x), rate)
        if (i + 1) % 100 == 0 or i + 1 == len(clips):
            print(f"make_fake_dns.py: clean clips {i + 1}/{len(clips)}", flush=True)
    if a.layout != "2020":  # other speech beside read_speech: not read speech, not used by default
        _write(clean_dir.parent / "german_speech" / "ger_book_00000_chp_0001_reader_09999_0.wav",
               at_rate(_read(clips[0][1][0])), rate)
    noises = {}
    for s in ("train", "valid", "test"):
        noises.update(read_kv(a.mini_src / s / "noise.scp"))
    step = int(a.noise_seconds * SR_IN)
    for nid, path in sorted(noises.items()):
        x = _read(path)
        for k in range(max(1, len(x) // step)):
            _write(noise_dir / f"{nid}_{k}.wav", at_rate(x[k * step:(k + 1) * step]), rate)
    rng = np.random.default_rng(0)  # the real set's quirks
    _write(noise_dir / "zeros_0.wav", np.zeros(step, np.float32), rate)
    _write(noise_dir / "hum_faint_0.wav", at_rate((1e-4 * rng.standard_normal(step)).astype(np.float32)), rate)
    _write(noise_dir / "click_short_0.wav", at_rate((0.1 * rng.standard_normal(SR_IN // 2)).astype(np.float32)), rate)
    (noise_dir / "Readme.md").write_text("Noise clips: see the license of each source.\n")
    print(f"make_fake_dns.py: noise: {len(noises)} files cut into {a.noise_seconds:g} s clips, and an all-zero, a "
          "near-silent and a 0.5 s clip, and a Readme.md", flush=True)
    scp, spk, text = (read_kv(a.mini_src / "test" / f) for f in ("speech.scp", "speech2spk", "speech.text"))
    chapters: dict[str, list[str]] = defaultdict(list)
    for u in sorted(scp):
        chapters[spk[u]].append(u)
    for i, (voice, utts) in enumerate(sorted(chapters.items())):
        sid, chap = str(LIBRI_FIRST_SPEAKER + i), str(20000 + i)
        d = a.out / "LibriSpeech" / "test-clean" / sid / chap
        lines = []
        for n, u in enumerate(utts):
            uid = f"{sid}-{chap}-{n:04d}"
            _write(d / f"{uid}.flac", _read(scp[u]), SR_IN, "FLAC")
            lines.append(f"{uid} {librispeech_text(text[u])}")
        (d / f"{sid}-{chap}.trans.txt").write_text("\n".join(lines) + "\n")
    if a.layout == "2020":  # the synthetic no-reverb test set: test speech plus test noise, 16 kHz
        ts = root / "datasets" / "test_set" / "synthetic" / "no_reverb"
        test_noise = [_read(p) for _, p in sorted(read_kv(a.mini_src / "test" / "noise.scp").items())]
        for n, u in enumerate(sorted(scp)[:6]):
            x = _read(scp[u])
            z = np.resize(test_noise[n % len(test_noise)], len(x)) * 0.5
            _write(ts / "clean" / f"clean_fileid_{n}.wav", x, SR_IN)
            _write(ts / "noisy" / f"book_{n:05d}_snr0_tl-25_fileid_{n}.wav", np.clip(x + z, -1, 1), SR_IN)
    hours = sum(sf.info(str(f)).duration for f in clean_dir.glob("*.wav")) / 3600
    print(f"make_fake_dns.py: {root} ({a.layout}): {hours:.2f} h of clean speech in {len(clips)} clips; "
          f"{a.out / 'LibriSpeech'}: {len(scp)} test-clean utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
