"""Does a teacher encode content? Same sentence, two voices versus two sentences, one voice.

  python -m seslib.bin.teacher_check --teacher exp/teacher/teacher --text data/local/mini/test/speech.text \\
      [--voices piper_joe fest_slt] [--sentences 12] [--out exp/teacher/content_check.json]

Each of the first ``--sentences`` sentences of ``--text`` (``utt sentence`` lines) is
synthesised with both voices. Teacher features (last layer) are standardised per
dimension over all utterances, and two utterances are compared by dynamic time warping
(cosine distance per frame pair, the accumulated cost divided by the two lengths). For
each sentence i of voice A the distance to the same sentence by voice B, d(A_i, B_i), is
compared with the distances to every other sentence j by voice A, d(A_i, A_j); the check
reports both means and the fraction of (i, j) comparisons in which the same sentence is
closer. The same numbers are computed for a randomly initialised model of the teacher's
shape (``--seed``), the baseline a content-bearing teacher must beat.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import audio, logutil
from ..fileutil import atomic_write_text

log = logging.getLogger("seslib.teacher_check")


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """DTW with steps (1,0), (0,1), (1,1) over cosine distances of ``[Ta, D]`` and ``[Tb, D]``
    frames; the total cost divided by ``Ta + Tb``."""
    an = a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-8)
    bn = b / (np.linalg.norm(b, axis=1, keepdims=True) + 1e-8)
    cost = 1.0 - an @ bn.T
    Ta, Tb = cost.shape
    acc = np.full((Ta + 1, Tb + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, Ta + 1):
        row, prev = acc[i], acc[i - 1]
        diag = np.minimum(prev[1:], prev[:-1]) + cost[i - 1]  # from (i-1, j) or (i-1, j-1)
        for j in range(1, Tb + 1):  # from (i, j-1): sequential along the row
            row[j] = min(diag[j - 1], row[j - 1] + cost[i - 1, j - 1])
    return float(acc[Ta, Tb] / (Ta + Tb))


def content_scores(feats_a: list[np.ndarray], feats_b: list[np.ndarray]) -> dict:
    """Scores of the check for sentence-aligned lists of features of voices A and B."""
    pooled = np.concatenate(feats_a + feats_b)
    mu, sd = pooled.mean(0), pooled.std(0) + 1e-6
    A = [(f - mu) / sd for f in feats_a]
    B = [(f - mu) / sd for f in feats_b]
    same, other, wins, n = [], [], 0, 0
    for i in range(len(A)):
        d_same = dtw_distance(A[i], B[i])
        same.append(d_same)
        for j in range(len(A)):
            if j != i:
                d_other = dtw_distance(A[i], A[j])
                other.append(d_other)
                wins += d_same < d_other
                n += 1
    return {"same_sentence_other_voice": float(np.mean(same)), "other_sentence_same_voice": float(np.mean(other)),
            "same_sentence_closer": wins / n, "comparisons": n}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.teacher_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", required=True, help="Wav2Vec2 hub id or save_pretrained directory")
    p.add_argument("--text", required=True, help="'utt sentence' lines (held-out sentences)")
    p.add_argument("--voices", nargs=2, default=["piper_joe", "fest_slt"], help="two voices of seslib.synth.tts")
    p.add_argument("--sentences", type=int, default=12, help="sentences to synthesise (default 12)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random-init baseline and the synthesis")
    p.add_argument("--out", help="JSON file for the scores")
    args = p.parse_args(argv)
    logutil.setup()
    import torch
    from transformers import Wav2Vec2Model

    from ..data import read_kv
    from ..synth import tts
    from ..teacher import Teacher
    try:
        status = tts.available_voices()
        for v in args.voices:
            if status.get(v) != "ok":
                raise ValueError(f"voice {v}: {status.get(v, 'unknown voice')}")
        texts = list(read_kv(args.text).values())[: args.sentences]
        if len(texts) < 2:
            raise ValueError(f"{args.text}: need at least 2 sentences")
        teacher = Teacher(args.teacher)
        with tempfile.TemporaryDirectory() as tmp:
            wavs = {}
            for v in args.voices:
                rng = np.random.default_rng(args.seed)
                items = [(t, tts.sample_params(v, rng), Path(tmp) / f"{v}-{k}.wav") for k, t in enumerate(texts)]
                tts.synth_batch(v, items, args.seed)
                wavs[v] = [audio.read_audio(it[2]) for it in items]
            torch.manual_seed(args.seed)
            rand_dir = Path(tmp) / "random"
            Wav2Vec2Model(teacher.model.config).save_pretrained(rand_dir)
            if (Path(args.teacher) / "preprocessor_config.json").is_file():
                import shutil
                shutil.copy(Path(args.teacher) / "preprocessor_config.json", rand_dir)
            result = {"teacher": args.teacher, "voices": args.voices, "sentences": len(texts)}
            for name, model in (("trained", teacher), ("random_init", Teacher(str(rand_dir)))):
                with torch.no_grad():
                    fa = [model(torch.from_numpy(x)[None])[0].numpy() for x in wavs[args.voices[0]]]
                    fb = [model(torch.from_numpy(x)[None])[0].numpy() for x in wavs[args.voices[1]]]
                result[name] = content_scores(fa, fb)
                r = result[name]
                log.info("%s: DTW same sentence/other voice %.4f, other sentence/same voice %.4f; same sentence "
                         "closer in %.1f%% of %d comparisons", name, r["same_sentence_other_voice"],
                         r["other_sentence_same_voice"], 100 * r["same_sentence_closer"], r["comparisons"])
        if args.out:
            atomic_write_text(args.out, json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
