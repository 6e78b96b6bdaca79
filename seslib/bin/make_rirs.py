"""Simulate a bank of room impulse responses for reverberation augmentation.

  python -m seslib.bin.make_rirs --out data/rirs --num 150 --seed 1

Each RIR is a random shoebox room (pyroomacoustics, image-source method) with one source
and one microphone: room sides, target RT60 (uniform in --rt60), source-microphone
distance and heights drawn from the seed. Wall absorption and the image order come from
Sabine's formula (``pyroomacoustics.inverse_sabine``); the order is capped at
--max-order to bound the time, which shortens the late tail of the largest, most
reverberant rooms, so the RT60 realised by each RIR is measured and stored.

Writes OUT/wav/<id>.wav (16 kHz, 24-bit), OUT/rir.scp (absolute paths, for
``augment.reverb.rir_scp``) and OUT/rir_info.jsonl (room, positions, target and measured
RT60). Rerun after a kill: finished RIRs are kept; the scp is written last.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .. import audio, logutil
from ..data import write_kv
from ..fileutil import atomic_write_text

log = logging.getLogger("seslib.make_rirs")


def draw_room(rng: np.random.Generator, rt60_range) -> dict:
    """A random shoebox room with a source and a microphone at least 0.5 m from the walls."""
    dims = [float(rng.uniform(3, 8)), float(rng.uniform(3, 6)), float(rng.uniform(2.5, 3.5))]
    inside = lambda h: [float(rng.uniform(0.5, dims[0] - 0.5)), float(rng.uniform(0.5, dims[1] - 0.5)), h]  # noqa: E731
    for _ in range(100):
        mic, src = inside(float(rng.uniform(0.8, 1.8))), inside(float(rng.uniform(1.2, 1.9)))
        if 0.5 <= np.linalg.norm(np.subtract(mic, src)) <= 3.0:
            break
    return {"dims": dims, "mic": mic, "source": src, "rt60_target": float(rng.uniform(*rt60_range))}


def simulate(room: dict, max_order: int) -> tuple[np.ndarray, float]:
    """The room's RIR at 16 kHz (peak normalised to 0.99) and its measured RT60 (s)."""
    import pyroomacoustics as pra
    e_abs, order = pra.inverse_sabine(room["rt60_target"], room["dims"])
    r = pra.ShoeBox(room["dims"], fs=audio.SAMPLE_RATE, materials=pra.Material(e_abs),
                    max_order=min(order, max_order), use_rand_ism=False)
    r.add_source(room["source"])
    r.add_microphone(room["mic"])
    r.compute_rir()
    h = np.asarray(r.rir[0][0], dtype=np.float64)
    h *= 0.99 / np.abs(h).max()
    try:
        rt60 = float(pra.experimental.measure_rt60(h, fs=audio.SAMPLE_RATE, decay_db=30))
    except Exception:  # too short a decay to measure
        rt60 = float("nan")
    return h.astype(np.float32), rt60


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.make_rirs", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output dir (wav/, rir.scp, rir_info.jsonl)")
    p.add_argument("--num", type=int, default=150, help="number of RIRs (default 150)")
    p.add_argument("--seed", type=int, default=1, help="seed of the rooms (default 1)")
    p.add_argument("--rt60", type=float, nargs=2, default=(0.2, 0.7), metavar=("LO", "HI"),
                   help="target RT60 range in seconds, uniform (default 0.2 0.7)")
    p.add_argument("--max-order", type=int, default=50, help="cap of the image-source order (default 50)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logutil.setup()
    from tqdm import tqdm
    try:
        import pyroomacoustics  # noqa: F401
    except ImportError:
        log.error("pyroomacoustics is not installed (tools/install.sh installs it)")
        return 1
    out = Path(args.out)
    (out / "wav").mkdir(parents=True, exist_ok=True)
    scp, info = {}, []
    for i in tqdm(range(args.num), desc="rirs", disable=args.quiet, mininterval=5):
        rid = f"rir{i:05d}"
        room = draw_room(np.random.default_rng([args.seed, i]), args.rt60)
        path = out / "wav" / f"{rid}.wav"
        meta = out / "wav" / f"{rid}.json"
        if not (path.is_file() and meta.is_file()):
            h, rt60 = simulate(room, args.max_order)
            audio.write_audio(path, h, subtype="PCM_24")  # float wavs carry a time stamp: not reproducible
            atomic_write_text(meta, json.dumps(dict(room, id=rid, rt60_measured=rt60, samples=len(h))))
        scp[rid] = str(path.resolve())
        info.append(meta.read_text())
    atomic_write_text(out / "rir_info.jsonl", "\n".join(info) + "\n")
    write_kv(out / "rir.scp", scp)
    rt = np.array([json.loads(x)["rt60_measured"] for x in info])
    log.info("%s: %d RIRs, measured RT60 median %.2f s (%.2f..%.2f)", out, len(scp), np.nanmedian(rt),
             np.nanmin(rt), np.nanmax(rt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
