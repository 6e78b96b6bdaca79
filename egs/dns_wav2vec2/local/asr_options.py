#!/usr/bin/env python3
"""Why does WER exceed 100 %? Decode the same utterances of several systems with several
faster-whisper settings and count what goes wrong: substitutions, deletions, insertions,
empty hypotheses, repetition loops (a word 3-gram three times or more), hypotheses longer
than 1.5x the reference.

  local/asr_options.py --systems clean noisy base --set test --utts 80 [--out exp/asr_options.json]
  local/asr_options.py --scored --systems clean noisy base    the same counts of the hypotheses stage 5 wrote

Reads exp/<system>/enhanced_<set>/wav.scp (clean: data/<set>/spk1.scp, noisy: data/<set>/wav.scp)
and data/<set>/text. Prints one line per system and setting; --out writes them as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import jiwer
import numpy as np

from seslib import audio
from seslib.asr import default_model_dir, normalize_text
from seslib.data import read_kv

SETTINGS = {
    "greedy (the scorer before n-gram blocking)": dict(beam_size=1),
    "beam 5": dict(beam_size=5),
    "greedy, no repeated 3-grams": dict(beam_size=1, no_repeat_ngram_size=3),
    "beam 5, no repeated 3-grams": dict(beam_size=5, no_repeat_ngram_size=3),
    "greedy, no silence skip": dict(beam_size=1, no_speech_threshold=None),
    "beam 5, no silence skip, no rep. 3-grams": dict(beam_size=5, no_speech_threshold=None, no_repeat_ngram_size=3),
    "greedy, VAD": dict(beam_size=1, vad_filter=True),
    "greedy, level -26 dBFS": dict(beam_size=1, level=-26.0),
}


def counts(ref: str, hyp: str) -> dict:
    ref, hyp = normalize_text(ref), normalize_text(hyp)
    o = jiwer.process_words(ref, hyp if hyp else "")
    w = hyp.split()
    grams = [" ".join(w[i:i + 3]) for i in range(len(w) - 2)]
    return {"S": o.substitutions, "D": o.deletions, "I": o.insertions, "N": len(ref.split()), "empty": int(not w),
            "loop": int(bool(grams) and max(grams.count(g) for g in set(grams)) >= 3),
            "long": int(len(w) > 1.5 * len(ref.split()))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", nargs="+", default=["clean", "noisy", "base"], help="systems to decode")
    p.add_argument("--set", default="test", help="test set (default test)")
    p.add_argument("--utts", type=int, default=80, help="first N utterances (sorted ids) of the set")
    p.add_argument("--settings", nargs="*", default=list(SETTINGS), help="names of SETTINGS to try")
    p.add_argument("--compute-type", default="int8", help="CTranslate2 compute type (int8, float32)")
    p.add_argument("--out", help="JSON file for the results")
    p.add_argument("--scored", action="store_true",
                   help="count the hypotheses in exp/<system>/score_<set>/scores.tsv instead of decoding")
    a = p.parse_args(argv)
    if a.scored:
        import csv
        text = read_kv(f"data/{a.set}/text", allow_empty_value=True)
        for system in a.systems:
            with open(f"exp/{system}/score_{a.set}/scores.tsv", encoding="utf-8") as f:
                rows = list(csv.DictReader(f, delimiter="\t"))
            tot = {}
            for r in rows:
                for k, v in counts(text[r["utt"]], r["hypothesis"] or "").items():
                    tot[k] = tot.get(k, 0) + v
            n = tot["N"]
            print(f"{system:12s} scored ({len(rows)} utts)  WER {100 * (tot['S'] + tot['D'] + tot['I']) / n:6.1f}  "
                  + "  ".join(f"{k} {100 * tot[k] / n:5.1f}" for k in "SDI")
                  + f"  empty {tot['empty']:3d} loops {tot['loop']:3d} long {tot['long']:3d}")
        return 0
    from faster_whisper import WhisperModel
    model = WhisperModel(default_model_dir(), device="cpu", compute_type=a.compute_type, cpu_threads=2)
    text = read_kv(f"data/{a.set}/text", allow_empty_value=True)
    results = []
    for system in a.systems:
        scp = {"clean": f"data/{a.set}/spk1.scp", "noisy": f"data/{a.set}/wav.scp"}.get(
            system, f"exp/{system}/enhanced_{a.set}/wav.scp")
        wavs = read_kv(scp)
        utts = sorted(wavs)[: a.utts]
        for name in a.settings:
            opts = dict(SETTINGS[name])
            level = opts.pop("level", None)
            t0, tot = time.time(), {}
            for u in utts:
                x = audio.read_audio(wavs[u], utt=u)
                if level is not None:
                    x = x * (10 ** (level / 20) / (np.sqrt(np.mean(x ** 2)) + 1e-9))
                segs, _ = model.transcribe(x.astype(np.float32), language="en", temperature=0.0,
                                           condition_on_previous_text=False, **opts)
                for k, v in counts(text[u], " ".join(s.text.strip() for s in segs)).items():
                    tot[k] = tot.get(k, 0) + v
            n = tot["N"]
            r = {"system": system, "setting": name, "utts": len(utts), "compute_type": a.compute_type,
                 "wer": 100 * (tot["S"] + tot["D"] + tot["I"]) / n, **{k: 100 * tot[k] / n for k in "SDI"},
                 "empty": tot["empty"], "loops": tot["loop"], "long": tot["long"], "seconds": time.time() - t0}
            results.append(r)
            print(f"{system:12s} {name:34s} WER {r['wer']:6.1f}  S {r['S']:5.1f} D {r['D']:5.1f} I {r['I']:5.1f}  "
                  f"empty {r['empty']:3d} loops {r['loops']:3d} long {r['long']:3d}  {r['seconds']:.0f} s", flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
