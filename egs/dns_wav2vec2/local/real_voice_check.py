#!/usr/bin/env python3
"""Spot check on a real human voice: the eight spoken channel names that Debian's alsa-utils
ships (/usr/share/sounds/alsa/{Front,Rear,Side}_*.wav, one speaker, 1.3-1.5 s each), each
mixed with every test noise instance of the corpus at a fixed SNR (stage 1's mixing code,
seeded), enhanced by each checkpoint, and scored with PESQ-WB, STOI and SI-SDR against the
clean clip. Too short and too few for WER; a check of whether a model trained on synthetic
voices helps or hurts a real one, not a test set.

  local/real_voice_check.py --noise data/local/mini/test/noise.scp --snr -5 \\
      --model base=exp/base/best.pt --model base_static=exp/base_static/best.pt
"""
from __future__ import annotations

import argparse
import glob
import sys

import numpy as np
import torch

from seslib import audio, metrics
from seslib.checkpoint import load_model
from seslib.data import read_kv


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", default="/usr/share/sounds/alsa/[FRS]*_*.wav",
                   help="glob of the real-voice clips (default: alsa-utils' channel names)")
    p.add_argument("--noise", required=True, help="noise scp (e.g. data/local/mini/test/noise.scp)")
    p.add_argument("--snr", type=float, default=-5.0, help="SNR in dB (default -5, the paper's test SNR)")
    p.add_argument("--model", action="append", default=[], metavar="NAME=CKPT", help="a checkpoint to compare")
    p.add_argument("--seed", type=int, default=1, help="seed of noise offsets and levels (default 1)")
    args = p.parse_args(argv)
    clips = sorted(glob.glob(args.clips))
    if not clips:
        print(f"real_voice_check: no clips match {args.clips} (Debian package alsa-utils)", file=sys.stderr)
        return 1
    noises = read_kv(args.noise)
    models = {k: load_model(v) for k, v in (m.split("=", 1) for m in args.model)}
    torch.set_num_threads(1)
    rows = {name: [] for name in ["noisy", *models]}
    for ci, clip in enumerate(clips):
        clean = audio.read_audio(clip, utt=clip)
        for ni, (nid, npath) in enumerate(sorted(noises.items())):
            rng = np.random.default_rng([args.seed, ci, ni])
            z = audio.read_audio(npath, utt=nid)
            off = int(rng.integers(len(z) - len(clean)))
            gc, gn = audio.mix_gains(clean, z[off:off + len(clean)], args.snr, float(rng.uniform(-35, -15)))
            c, _, s = audio.mix_at_snr(clean, z[off:off + len(clean)], gc, gn)
            c, s = c / 32768.0, (s / 32768.0).astype(np.float32)
            outs = {"noisy": s}
            for name, m in models.items():
                with torch.no_grad():
                    outs[name] = m(torch.from_numpy(s)[None])[0].numpy()
            for name, e in outs.items():
                rows[name].append([metrics.pesq_wb(c, e)[0], metrics.stoi(c, e), metrics.si_sdr_np(e, c)])
    n = len(rows["noisy"])
    print(f"{len(clips)} clips x {len(noises)} noises = {n} mixtures at {args.snr:g} dB")
    print("| system | PESQ | STOI | SI-SDR (dB) |\n|---|---|---|---|")
    for name, r in rows.items():
        m = np.nanmean(np.array(r), axis=0)
        print(f"| {name} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
