"""Does a teacher encode what is said? The same sentences by several voices, DTW-compared.

  python -m seslib.bin.teacher_check --teacher whisper-tiny.en --text data/local/mini/test/speech.text \\
      [--voices piper_joe fest_slt flite_rms] [--sentences 24] [--out exp/teacher_check/whisper-tiny.en.json]

The first ``--sentences`` distinct sentences of ``--text`` (``utt sentence`` lines; use
held-out ones) are synthesised with each voice. The teacher's last layer is standardised
per dimension over all utterances, and two utterances are compared by dynamic time warping
(cosine distance per frame pair; steps (1,0), (0,1), (1,1); the accumulated cost divided
by the two lengths). Reported, for the teacher and for its random twin (``random:<spec>``,
the same architecture with random weights, which a content-bearing teacher must beat):

- ``same_sentence_other_voice``: mean DTW distance between the same sentence by two voices;
- ``other_sentence_same_voice``: mean distance between two sentences by one voice;
- ``dtw_ratio``: the first over the second (1: the features say who speaks as much as what
  is said; lower: more content). A random encoder with a position table (Whisper's) gives
  features that mostly encode time, and so a low ratio too: the same sentence lasts about
  as long in every voice. The ratio is therefore reported, not judged;
- ``retrieval``: for each sentence by one voice, is the nearest utterance by another voice
  the same sentence? (accuracy over every ordered voice pair; chance ``1 / sentences``);
- ``same_sentence_closer``: fraction of (i, j != i) comparisons where the same sentence
  by another voice is nearer than sentence j by the same voice.

``beats_random`` is true when the teacher's cross-voice retrieval accuracy exceeds its
twin's by at least 0.2 and is at least twice the twin's: the same sentence must be found
among sentences of every duration, which durations alone do not do.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import audio, logutil
from ..fileutil import atomic_write_text

log = logging.getLogger("seslib.teacher_check")

#: margins a teacher's retrieval accuracy must clear over its random twin's (module docstring)
MIN_RETRIEVAL_GAIN, MIN_RETRIEVAL_FACTOR = 0.2, 2.0


def dtw_batch(cost: np.ndarray, len_a: np.ndarray, len_b: np.ndarray) -> np.ndarray:
    """DTW of many pairs at once, along anti-diagonals.

    Args:
        cost: ``[P, A, B]`` frame-pair costs, pair p valid in ``[:len_a[p], :len_b[p]]``.
        len_a, len_b: ``[P]`` lengths.

    Returns:
        ``[P]``: the cheapest monotone path's total cost from (0, 0) to the pair's last
        frames, divided by ``len_a + len_b``.
    """
    P, A, B = cost.shape
    acc = np.full((P, A + 1, B + 1), np.inf, dtype=np.float32)
    acc[:, 0, 0] = 0.0
    for k in range(2, A + B + 1):  # cells (i, j), 1-based, with i + j = k
        i = np.arange(max(1, k - B), min(A, k - 1) + 1)
        j = k - i
        best = np.minimum(np.minimum(acc[:, i - 1, j], acc[:, i, j - 1]), acc[:, i - 1, j - 1])
        acc[:, i, j] = cost[:, i - 1, j - 1] + best
    return acc[np.arange(P), len_a, len_b] / (len_a + len_b)


def _unit(f: np.ndarray) -> np.ndarray:
    return f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-8)


def pair_distances(feats: list[np.ndarray], pairs: list[tuple[int, int]], chunk: int = 256) -> np.ndarray:
    """DTW distances (cosine frame cost) of ``feats[a]`` and ``feats[b]`` for each pair
    (batched by similar lengths)."""
    unit = [_unit(f).astype(np.float32) for f in feats]
    order = sorted(range(len(pairs)), key=lambda p: (len(unit[pairs[p][0]]), len(unit[pairs[p][1]])))
    out = np.empty(len(pairs))
    for s in range(0, len(pairs), chunk):
        sel = order[s:s + chunk]
        part = [pairs[p] for p in sel]
        la = np.array([len(unit[a]) for a, _ in part])
        lb = np.array([len(unit[b]) for _, b in part])
        cost = np.ones((len(part), la.max(), lb.max()), dtype=np.float32)
        for p, (a, b) in enumerate(part):
            cost[p, :la[p], :lb[p]] = 1.0 - unit[a] @ unit[b].T
        out[sel] = dtw_batch(cost, la, lb)
    return out


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """DTW distance of ``[Ta, D]`` and ``[Tb, D]`` (see :func:`pair_distances`)."""
    return float(pair_distances([a, b], [(0, 1)])[0])


def content_scores(feats: dict[str, list[np.ndarray]]) -> dict:
    """Scores of the check (module docstring) for ``voice -> sentence-aligned features``."""
    voices = list(feats)
    n = len(feats[voices[0]])
    if any(len(f) != n for f in feats.values()) or len(voices) < 2 or n < 2:
        raise ValueError("content_scores needs at least 2 voices with the same >= 2 sentences each")
    pooled = np.concatenate([f for v in voices for f in feats[v]])
    mu, sd = pooled.mean(0), pooled.std(0) + 1e-6
    flat = [(f - mu) / sd for v in voices for f in feats[v]]
    idx = {(v, i): k * n + i for k, v in enumerate(voices) for i in range(n)}
    cross = {(va, vb): [(idx[va, i], idx[vb, j]) for i in range(n) for j in range(n)]
             for va, vb in itertools.combinations(voices, 2)}
    within = {v: [(idx[v, i], idx[v, j]) for i in range(n) for j in range(i + 1, n)] for v in voices}
    pairs = [p for ps in cross.values() for p in ps] + [p for ps in within.values() for p in ps]
    d = dict(zip(pairs, pair_distances(flat, pairs)))
    dist = lambda a, b: d[(a, b)] if (a, b) in d else d[(b, a)]  # noqa: E731
    same = [dist(idx[va, i], idx[vb, i]) for va, vb in cross for i in range(n)]
    other = [dist(idx[v, i], idx[v, j]) for v in voices for i in range(n) for j in range(i + 1, n)]
    hits = closer = total = 0
    for va, vb in itertools.permutations(voices, 2):
        for i in range(n):
            row = [dist(idx[va, i], idx[vb, j]) for j in range(n)]
            hits += int(np.argmin(row) == i)
            for j in range(n):
                if j != i:
                    closer += row[i] < dist(idx[va, i], idx[va, j])
                    total += 1
    s, o = float(np.mean(same)), float(np.mean(other))
    return {"same_sentence_other_voice": s, "other_sentence_same_voice": o, "dtw_ratio": s / o,
            "retrieval": hits / (n * len(voices) * (len(voices) - 1)), "retrieval_chance": 1.0 / n,
            "same_sentence_closer": closer / total, "comparisons": total}


def beats_random(trained: dict, random_init: dict) -> bool:
    """The margins of the module docstring."""
    return (trained["retrieval"] - random_init["retrieval"] >= MIN_RETRIEVAL_GAIN
            and trained["retrieval"] >= MIN_RETRIEVAL_FACTOR * random_init["retrieval"])


def synthesise(voices, texts, seed: int, tmp: Path) -> dict[str, list[np.ndarray]]:
    """Each text spoken by each voice (seslib.synth.tts), as 16 kHz arrays."""
    from ..synth import tts
    status = tts.available_voices()
    for v in voices:
        if status.get(v) != "ok":
            raise ValueError(f"voice {v}: {status.get(v, 'unknown voice')} (voices: {', '.join(sorted(status))})")
    wavs = {}
    for v in voices:
        rng = np.random.default_rng(seed)
        items = [(t, tts.sample_params(v, rng), tmp / f"{v}-{k}.wav") for k, t in enumerate(texts)]
        tts.synth_batch(v, items, seed)
        wavs[v] = [audio.read_audio(it[2]) for it in items]
    return wavs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.teacher_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", required=True, help="teacher spec (seslib.teacher): whisper-tiny.en, a hub id, "
                   "a save_pretrained or CTranslate2 dir")
    p.add_argument("--text", required=True, help="'utt sentence' lines (held-out sentences)")
    p.add_argument("--voices", nargs="+", default=["piper_joe", "fest_slt", "flite_rms"],
                   help="voices of seslib.synth.tts, at least 2 (default: piper_joe fest_slt flite_rms)")
    p.add_argument("--sentences", type=int, default=24, help="distinct sentences to synthesise (default 24)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random twin and of the synthesis (default 0)")
    p.add_argument("--out", help="JSON file for the scores")
    p.add_argument("--device", default="cpu", help="where the teachers run: cpu (default), cuda, cuda:N or auto")
    args = p.parse_args(argv)
    logutil.setup()
    import torch

    from ..data import read_kv
    from ..teacher import Teacher
    try:
        if len(args.voices) < 2:
            raise ValueError("--voices: need at least 2 voices")
        texts = list(dict.fromkeys(read_kv(args.text).values()))[: args.sentences]
        if len(texts) < 2:
            raise ValueError(f"{args.text}: need at least 2 distinct sentences")
        if len(texts) < args.sentences:
            log.warning("%s: only %d distinct sentences", args.text, len(texts))
        from ..engine import resolve_device
        dev = resolve_device(args.device)
        teacher = Teacher(args.teacher).to(dev)
        twin_spec = f"random:{teacher.name}" if args.seed == 0 else f"random@{args.seed}:{teacher.name}"
        with tempfile.TemporaryDirectory() as tmp:
            log.info("synthesising %d sentences x %d voices", len(texts), len(args.voices))
            wavs = synthesise(args.voices, texts, args.seed, Path(tmp))
        result = {"teacher": teacher.name, "random_twin": twin_spec, "voices": args.voices, "sentences": len(texts),
                  "seconds": round(sum(len(x) for w in wavs.values() for x in w) / audio.SAMPLE_RATE, 1)}
        for name, model in (("trained", teacher), ("random_init", Teacher(twin_spec).to(dev))):
            with torch.no_grad():
                feats = {v: [model(torch.from_numpy(x)[None].to(dev))[0].float().cpu().numpy() for x in wavs[v]]
                         for v in args.voices}
            result[name] = r = content_scores(feats)
            log.info("%s: DTW ratio %.3f (same sentence/other voice %.4f, other sentence/same voice %.4f); "
                     "cross-voice retrieval %.1f%% (chance %.1f%%); same sentence closer in %.1f%% of %d", name,
                     r["dtw_ratio"], r["same_sentence_other_voice"], r["other_sentence_same_voice"],
                     100 * r["retrieval"], 100 * r["retrieval_chance"], 100 * r["same_sentence_closer"],
                     r["comparisons"])
        result["beats_random"] = beats_random(result["trained"], result["random_init"])
        log.info("%s %s its random twin", teacher.name, "clearly beats" if result["beats_random"] else
                 "does NOT clearly beat")
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(args.out, json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
