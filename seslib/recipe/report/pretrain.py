"""RESULTS.md sections of the pre-training experiments: the paper's Tables 2 and 3 (Sec. 3.3)."""
from __future__ import annotations

import json
from pathlib import Path

from ...checkpoint import read_checkpoint
from ..budget import describe
from ..systems import split_steps
from .tables import SCORES_CELL, matched_reference, paper_cell, system_budget
from .teacher import score_delta


def _facts(ckpt: str, stamp_dir: Path) -> dict:
    """Training budget, initialisation, best validation score and wall time of a checkpoint."""
    ck = read_checkpoint(ckpt)
    cfg, best = ck["config"], ck.get("best", {})
    tc = cfg["train"]
    name = Path(ckpt).parent.name
    stamp = stamp_dir / f"3_train_{name}.done"
    init = "; ".join(f"{', '.join(i['parts'])} from {Path(i['checkpoint']).parent.name}" for i in cfg.get("init") or [])
    metric = best.get("metric", "SI-SDR (dB)")
    total = system_budget(Path(ckpt).parent)
    own = "assembled, not trained" if tc["max_steps"] == 0 else \
        f"{tc['max_steps']} steps x {tc['batch_size']} x {tc['crop_seconds']:g} s"
    return {
        "mode": cfg["mode"],
        "budget": own if total is None else f"{own}; in all {describe(total)}",
        "init": init or "–",
        "best": "–" if "score" not in best else f"{best['score']:.2f} ({metric}, step {best['step']})",
        "wall": f"{json.loads(stamp.read_text())['elapsed_s']:.0f} s" if stamp.is_file() else "–",
    }


def _reference(summary, sets) -> str:
    parts = []
    for kind in ("noisy", "clean"):
        try:
            s = summary(f"exp/{kind}", sets[0])
        except FileNotFoundError:
            continue
        wer = f", WER {s['wer']:.1f} %" if s.get("wer") is not None else ""
        wer += f", PocketSphinx WER / PER {_sphinx(s)} %" if "per_sphinx" in s else ""
        parts.append(f"{kind} PESQ {s['pesq']:.2f}, STOI {s['stoi']:.3f}, SI-SDR {s['si_sdr']:.2f} dB{wer}")
    return "; ".join(parts)


def table2_section(rows, sets, summary, scores, stamp_dir: Path, published: dict | None = None) -> list[str]:
    """Table 2: enhancement straight from the pre-trained models (no fine-tuning).

    Args:
        rows: ``(label, system_dir, checkpoint)``.
        summary: ``(system_dir, set) -> score summary``; scores: summary -> table cells.
    """
    md = ["## Table 2: enhancement from the pre-trained models, not fine-tuned", "",
          "Encoder pre-trained with L1 / L2 / cosine to the teacher's last layer on the clean speech (Sec. 2.5); "
          "decoder pre-trained either on that frozen encoder's output for the noisy input (\"Frozen\": M(P(f_enc(X))), "
          "the predicted teacher embedding; the row \"fed the bottleneck\" reads f_enc(X) itself) or on the "
          "teacher's embeddings of the clean speech (\"Teacher\", the paper's \"Wav2Vec2\"). The paper leaves open what "
          "the \"Teacher\" rows are fed at test time, so both readings are scored: (i) the decoder resynthesises the "
          "clean test speech from the teacher's embeddings of it (the same decoder for every encoder loss: it never "
          "sees the encoder); (ii) the whole pipeline on the noisy input, pre-trained encoder -> P -> M -> decoder. "
          f"Reference ({sets[0]}): {_reference(summary, sets)}.", "",
          "| Encoder loss / decoder input | " + " | ".join(f"{t}: {SCORES_CELL}" for t in sets)
          + f" | PocketSphinx WER / PER ({sets[0]}) | paper: PESQ / STOI / WER | budget | init | best valid "
          "| train wall time |",
          "|---|" + "---|" * len(sets) + "---|---|---|---|---|---|"]
    for label, d, ckpt in rows:
        f = _facts(ckpt, stamp_dir)
        md.append(f"| {label} | " + " | ".join(scores(summary(d, t)).replace(" | ", " / ") for t in sets)
                  + f" | {_sphinx(summary(d, sets[0]))} | {paper_cell(published or {}, d, ('pesq', 'stoi', 'wer'))} "
                  f"| {f['budget']} | {f['init']} | {f['best']} | {f['wall']} |")
    return md + [""]


def _sphinx(s: dict) -> str:
    return " / ".join("–" if s.get(k) is None else f"{s[k]:.1f}" for k in ("wer_sphinx", "per_sphinx"))


def table3_section(rows, sets, summary, scores, stamp_dir: Path, published: dict | None = None) -> list[str]:
    """Table 3: the pre-trained models fine-tuned end to end with -SI-SDR, beside Base trained for
    the same total steps (pre-training included) and beside the Base of Table 1."""
    dirs = [d for _, d, _ in rows]
    bases = [d for d in dirs if split_steps(Path(d).name)[0] == "base"]
    base = next((d for d in dirs if Path(d).name == "base"), None)
    md = ["## Table 3: pre-trained models fine-tuned", "",
          "The L1-pre-trained models of Table 2 fine-tuned end to end with -SI-SDR (eq. 1), with Base's per-stage budget "
          "and data pipeline. A fine-tuned model has seen its encoder's and its decoder's pre-training steps too, so "
          "each is compared with a Base trained for the same total number of steps (\"Base, N steps\"; "
          "`--budget-matched`); the Base of Table 1 stays as a row. Δ: the row minus that Base on " + sets[0]
          + " (PESQ / STOI / SI-SDR).", "",
          "| Encoder loss / decoder input | " + " | ".join(f"{t}: {SCORES_CELL}" for t in sets)
          + " | Δ vs Base of equal steps | Δ vs Base of Table 1 | paper: PESQ / STOI / SI-SDR | budget | init "
          "| best valid | train wall time |",
          "|---|" + "---|" * len(sets) + "---|---|---|---|---|---|---|"]
    for label, d, ckpt in rows:
        f = _facts(ckpt, stamp_dir)
        s0 = summary(d, sets[0])
        is_base = d in bases
        ref = None if is_base else matched_reference(d, bases)
        matched = "–" if ref is None else score_delta(s0, summary(ref, sets[0])) + f" ({Path(ref).name})"
        delta = "–" if base is None or is_base else score_delta(s0, summary(base, sets[0]))
        md.append(f"| {label} | " + " | ".join(scores(summary(d, t)).replace(" | ", " / ") for t in sets)
                  + f" | {matched} | {delta} | {paper_cell(published or {}, d)} | {f['budget']} | {f['init']} "
                  f"| {f['best']} | {f['wall']} |")
    return md + [""]
