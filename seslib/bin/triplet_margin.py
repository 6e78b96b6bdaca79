"""How large must the triplet margin be? The per-frame distance of a teacher's embeddings of
clean and noisy speech, ``|g_s(Y) - g_s(X)|``, over a data dir (paper, Sec. 2.3.3, eq. 4).

  python -m seslib.bin.triplet_margin --data-dir data/train --teacher whisper-tiny.en \\
      --max-utts 40 --margins 13.5 100 --out exp/analysis/triplet_margin.json

The triplet loss ``L_T = max(|a - p| - |a - n| + m, 0)`` with p = g_s(Y) (clean) and
n = g_s(X) (noisy) switches a frame's hinge off only where the anchor a is nearer to p than
to n by more than m. Its best case is a = p, where d_an = |p - n| = d and the hinge is active
exactly where d < m. The distribution of d therefore says which margins can ever let a hinge
switch off: at m = 100 with d in 10-31 (Whisper tiny.en on the mini corpus) none can, and L_T
reduces to d_ap - d_an + m, whose gradient does not depend on m.

For each utterance (``spk1.scp`` clean, ``wav.scp`` noisy, the first ``--max-utts`` in id
order) the teacher's last layer is computed on both, and d taken per frame. Written
(atomically) to ``--out``: the number of utterances and frames, the quartiles and 5th / 95th
percentiles of d, and for each ``--margins`` value m the fraction of frames with d < m (the
fraction of hinges that would stay active at the best-case anchor a = p).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .. import audio, logutil
from ..data import DataDirError, read_kv
from ..fileutil import atomic_write_text

log = logging.getLogger("seslib.triplet_margin")


def margin_statistics(distances, margins) -> dict:
    """Percentiles of the per-frame distances d and, per margin m, the fraction of frames with
    d < m (hinges active at the anchor a = p).

    Args:
        distances: 1-D array of per-frame distances ``|g_s(Y) - g_s(X)|``.
        margins: margins m to evaluate.
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 1 or not len(d):
        raise ValueError("margin_statistics: no frames")
    pct = dict(zip(("p5", "q1", "median", "q3", "p95"), np.percentile(d, [5, 25, 50, 75, 95]).tolist()))
    return {"frames": int(len(d)), **pct, "mean": float(d.mean()),
            "active_at_anchor_p": {f"{m:g}": float(np.mean(d < m)) for m in margins}}


def frame_distances(teacher, clean: np.ndarray, noisy: np.ndarray):
    """``|g_s(Y) - g_s(X)|`` per frame of one utterance (``[T]``, a numpy array)."""
    import torch
    with torch.no_grad():
        g = teacher(torch.from_numpy(np.stack([clean, noisy])))
    return (g[0] - g[1]).norm(dim=-1).float().numpy()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.triplet_margin", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", required=True, help="data dir with spk1.scp (clean) and wav.scp (noisy)")
    p.add_argument("--teacher", default="whisper-tiny.en", help="teacher spec (seslib.teacher; default whisper-tiny.en)")
    p.add_argument("--max-utts", type=int, default=40, help="the first N utterances in id order (default 40; 0: all)")
    p.add_argument("--margins", type=float, nargs="+", default=[13.5, 100.0],
                   help="margins m whose active fraction at a = p is reported (default 13.5 100)")
    p.add_argument("--out", required=True, help="output JSON")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default 0: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logutil.setup()
    try:
        if args.max_utts < 0:
            raise ValueError(f"--max-utts {args.max_utts}: must be >= 0")
        d = Path(args.data_dir)
        clean, noisy = read_kv(d / "spk1.scp"), read_kv(d / "wav.scp")
        utts = sorted(clean)
        missing = [u for u in utts if u not in noisy]
        if missing:
            raise DataDirError(f"{d}: {len(missing)} utterances of spk1.scp are not in wav.scp (first: {missing[0]})")
        if args.max_utts:
            utts = utts[: args.max_utts]
        import torch
        from tqdm import tqdm

        from ..teacher import Teacher
        if args.threads:
            torch.set_num_threads(args.threads)
        teacher = Teacher(args.teacher)
        dist = []
        for utt in tqdm(utts, desc="utterances", disable=args.quiet, mininterval=5):
            y, x = audio.read_audio(clean[utt], utt=utt), audio.read_audio(noisy[utt], utt=utt)
            if len(y) != len(x):
                raise DataDirError(f"{d}: {utt}: clean and noisy lengths differ ({len(y)} vs {len(x)} samples)")
            dist.append(frame_distances(teacher, y, x))
        stats = margin_statistics(np.concatenate(dist) if dist else [], args.margins)
        result = {"teacher": teacher.name, "data_dir": str(d), "utterances": len(utts), **stats}
        atomic_write_text(Path(args.out), json.dumps(result, indent=1) + "\n")
        log.info("%s: %d frames of %d utterances, median |g(Y) - g(X)| %.2f (quartiles %.2f / %.2f); active at a = p: %s",
                 args.out, stats["frames"], len(utts), stats["median"], stats["q1"], stats["q3"],
                 ", ".join(f"m={m} {v:.3f}" for m, v in stats["active_at_anchor_p"].items()))
    except (OSError, ValueError, DataDirError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
