"""The teacher parts of RESULTS.md: content checks, the offline pre-training, and the
teacher ablation (the same modes trained with the real teacher, its random twin and the
offline pre-trained one). Used by :mod:`seslib.bin.results`."""
from __future__ import annotations

import json
from pathlib import Path

from ...checkpoint import read_checkpoint
from .tables import SCORES_CELL


def content_check_section(files) -> list[str]:
    """A table of every content check (seslib.bin.teacher_check JSON files), teacher and twin."""
    checks = [json.loads(Path(f).read_text()) for f in files if Path(f).is_file()]
    if not checks:
        return []
    c0 = checks[0]
    md = ["### Content check", "",
          f"Does the teacher encode what is said (seslib.bin.teacher_check)? {c0['sentences']} held-out sentences, "
          f"each synthesised by {', '.join(c0['voices'])}; DTW distance (cosine, standardised last-layer "
          "features). Ratio: same sentence by another voice over other sentences by the same voice (lower: more "
          "content; a random encoder's features mostly encode time, so it scores low too). Retrieval: is the "
          "nearest utterance of another voice the same sentence (chance "
          f"{100 * c0['trained']['retrieval_chance']:.1f}%)? A teacher must beat its random twin's retrieval by "
          "0.2 and twice over.", "",
          "| teacher | weights | DTW same sentence, other voice | DTW other sentence, same voice | ratio | "
          "cross-voice retrieval | same sentence closer | verdict |",
          "|---|---|---|---|---|---|---|---|"]
    for c in checks:
        for key, weights in (("trained", "pretrained"), ("random_init", "random twin")):
            r = c[key]
            verdict = "" if key == "random_init" else (
                "beats its random twin" if c["beats_random"] else "**does not clearly beat its random twin**")
            md.append(f"| {c['teacher'] if key == 'trained' else c['random_twin']} | {weights} | "
                      f"{r['same_sentence_other_voice']:.4f} | {r['other_sentence_same_voice']:.4f} | "
                      f"{r['dtw_ratio']:.3f} | {100 * r['retrieval']:.1f}% | {100 * r['same_sentence_closer']:.1f}% | "
                      f"{verdict} |")
    flagged = [c["teacher"] for c in checks if not c["beats_random"]]
    if flagged:
        md += ["", f"**Warning:** {', '.join(flagged)} does not clearly beat a random network of its shape: "
                   "its rows measure an extra loss term more than what the teacher knows."]
    return md + [""]


def pretrain_section(teacher_dir: Path) -> list[str]:
    """The offline wav2vec 2.0 pre-training: steps, size, first / middle / last logged losses."""
    info = teacher_dir / "teacher" / "seslib_pretraining.json"
    if not info.is_file():
        return []
    log_lines = (teacher_dir / "train.log").read_text().splitlines() if (teacher_dir / "train.log").is_file() else []
    first = next((line for line in log_lines if "parameters" in line), "")
    steps = [line for line in log_lines if " step " in line and "contrastive" in line]
    md = ["### The offline pre-trained wav2vec 2.0 (`pretrain`)", "",
          f"Pre-trained by stage 2 ({json.loads(info.read_text())['steps']} steps); "
          + (first.split(": ", 1)[1] if ": " in first else "") + "."]
    if steps:
        pick = [steps[0]] + steps[len(steps) // 2: len(steps) // 2 + 1] + [steps[-1]]
        md += ["", "| logged at | step and losses (averaged since the previous line) |", "|---|---|"]
        md += [f"| {line[:19]} | {line[20:].split(' step ', 1)[-1] if ' step ' in line[20:] else line[20:]} |"
               for line in pick]
    return md + [""]


def _short(spec: str) -> str:
    """A teacher spec with directories below the working directory made relative."""
    prefix, _, path = spec.rpartition(":") if spec.startswith("random") else ("", "", spec)
    p = Path(path)
    if p.is_absolute() and p.is_relative_to(Path.cwd()):
        path = str(p.relative_to(Path.cwd()))
    return f"{prefix}:{path}" if prefix else path


def score_delta(a: dict, b: dict) -> str:
    """``a - b`` of two score summaries as "PESQ / STOI / SI-SDR" (signed)."""
    return " / ".join(f"{a[k] - b[k]:+.{n}f}" for k, n in (("pesq", 2), ("stoi", 3), ("si_sdr", 2)))


def teacher_ablation_section(rows, sets, summary, scores) -> list[str]:
    """Each mode with each teacher (read from the checkpoint's config), its best valid
    SI-SDR, scores on every set, and the difference to the same mode with the random twin.

    Args:
        rows: ``(label, system_dir, checkpoint)``.
        summary: ``(system_dir, set) -> score summary``; scores: summary -> table cells.
    """
    md = ["## Teacher ablation: what the teacher knows versus an extra loss term", "",
          "Each mode trained with the same budget, crops and data pipeline, with the real teacher, its random twin "
          "(same architecture, random weights) and the small wav2vec 2.0 pre-trained offline. Scores: "
          f"{SCORES_CELL}; Δ vs random twin: the same mode with the random twin subtracted "
          f"({sets[0]}: PESQ / STOI / SI-SDR).", "",
          "| Mode | teacher | best valid SI-SDR (step) | " + " | ".join(f"{t}" for t in sets) + " | Δ vs random twin |",
          "|---|---|---|" + "---|" * len(sets) + "---|"]
    info = []
    for label, d, ckpt in rows:
        ck = read_checkpoint(ckpt)
        t = (ck["config"].get("teacher") or {}).get("spec") if ck["config"]["mode"] != "base" else None
        info.append((label, d, t, ck.get("best", {}), [summary(d, s) for s in sets]))
    twins = {label: s for label, _, t, _, s in info if t and t.startswith("random")}
    for label, d, t, best, summ in info:
        name = "–" if not t else _short(t)
        b = f"{best['score']:.2f} dB ({best['step']})" if best.get("step") else "–"
        tw = twins.get(label)
        delta = "–" if tw is None or t is None or t.startswith("random") else score_delta(summ[0], tw[0])
        md.append(f"| {label} | {name} | {b} | " + " | ".join(scores(s).replace(" | ", " / ") for s in summ)
                  + f" | {delta} |")
    return md + [""]
