"""RESULTS.md sections about the training corpus: what real recordings buy (the corpus ablation)
and how every system does on real voices in real noise (``test_real`` and its SNR copies)."""
from __future__ import annotations

import json
from pathlib import Path

from ...analysis.compare import compare, read_scores
from .tables import SIGNAL_CELL, signal_cell

GAINS = (("stoi", "STOI", 3), ("si_sdr", "SI-SDR (dB)", 2), ("dnsmos_ovrl", "DNSMOS OVRL", 2))


def _gain_cell(system_dir, noisy_dir, test_set: str, key: str, nd: int) -> str:
    """Mean gain of a system over the noisy input, with its 95 % paired bootstrap interval."""
    try:
        r = compare(read_scores(Path(system_dir) / f"score_{test_set}"),
                    read_scores(Path(noisy_dir) / f"score_{test_set}")).get(key)
    except (FileNotFoundError, ValueError):
        return "–"
    if r is None:
        return "–"
    return f"{r['diff']:+.{nd}f} [{r['low']:+.{nd}f}, {r['high']:+.{nd}f}]{' *' if r['significant'] else ''}"


def _wall(stamp_dir: Path, system_dir) -> str:
    stamp = stamp_dir / f"3_train_{Path(system_dir).name}.done"
    return f"{json.loads(stamp.read_text())['elapsed_s'] / 60:.1f} min" if stamp.is_file() else "–"


def corpus_section(rows, sets, summary, stamp_dir: Path, checkpoint_budget) -> list[str]:
    """Base trained on three corpora at two budgets, scored on every test set.

    Args:
        rows: ``(label, system_dir, source)``; the noisy input's source is ``noisy``.
        summary: ``(system_dir, set) -> score summary``.
        checkpoint_budget: ``checkpoint path -> "N steps x B x S s"``.
    """
    noisy = next((d for _, d, src in rows if src == "noisy"), None)
    md = ["## Training corpus: synthetic sources against real recordings", "",
          "Base trained on (a) the TTS voices and procedural noises only, (b) the same plus the real noises (the "
          "default), (c) plus the real voices too, each with the default budget and with 4x the steps; "
          "the sources are left out of dynamic mixing by path (`data.exclude`), so every row draws from the same "
          "stage-1 data and is scored on the same test sets. `test_real`: held-out real speakers in held-out real "
          f"noise packages (docs/data.md, \"The real recordings\"). Cells: {SIGNAL_CELL}.", "",
          "| System | budget | train wall time | " + " | ".join(sets) + " |",
          "|---|---|---|" + "---|" * len(sets)]
    for label, d, src in rows:
        cells = []
        for t in sets:
            s = summary(d, t)
            cells.append(signal_cell(s))
        budget = "–" if src in ("noisy", "clean") else checkpoint_budget(src)
        wall = "–" if src in ("noisy", "clean") else _wall(stamp_dir, d)
        md.append(f"| {label} | {budget} | {wall} | " + " | ".join(cells) + " |")
    if noisy:
        md += ["", "Gain over the noisy input, with the 95 % interval of 1000 paired resamples of the utterances "
               "(`*`: the interval excludes zero):", "",
               "| System | " + " | ".join(f"{t}: Δ {name}" for t in sets for _, name, _ in GAINS) + " |",
               "|---|" + "---|" * (len(sets) * len(GAINS))]
        for label, d, src in rows:
            if src in ("noisy", "clean"):
                continue
            md.append(f"| {label} | " + " | ".join(_gain_cell(d, noisy, t, k, nd) for t in sets for k, _, nd in GAINS)
                      + " |")
    return md + [""]


def real_section(rows, real_set: str, snr_sets, summary) -> list[str]:
    """Every row scored on the real-recording set at -5 dB and on its copies at other SNRs.

    Args:
        rows: ``(label, system_dir, source)``; rows not scored on ``real_set`` are left out.
        snr_sets: names of the copies (``<real_set>_snr<X>``); those every row has are shown.
    """
    rows = [r for r in rows if (Path(r[1]) / f"score_{real_set}" / "summary.json").is_file()]
    sets = [real_set] + [t for t in snr_sets if t.startswith(real_set + "_snr")
                         and all((Path(d) / f"score_{t}" / "summary.json").is_file() for _, d, _ in rows)]
    noisy = next((d for _, d, src in rows if src == "noisy"), None)
    names = [f"{t.rsplit('_snr', 1)[1]} dB" if "_snr" in t else "-5 dB" for t in sets]
    md = [f"## Real voices in real noise ({real_set})", "",
          "Held-out real speakers (recorded, not synthesised) in noise recorded for held-out packages, at -5 dB and "
          f"again at other SNRs (the same utterances and noise segments). No transcripts: no WER. Cells: {SIGNAL_CELL}; "
          "Δ: the gain over the noisy input at -5 dB with its 95 % paired bootstrap interval.", "",
          "| System | " + " | ".join(names) + " | " + " | ".join(f"Δ {name}" for _, name, _ in GAINS) + " |",
          "|---|" + "---|" * (len(sets) + len(GAINS))]
    for label, d, src in rows:
        cells = []
        for t in sets:
            s = summary(d, t)
            cells.append(signal_cell(s))
        gains = ["–"] * len(GAINS) if src in ("noisy", "clean") or not noisy else \
            [_gain_cell(d, noisy, real_set, k, nd) for k, _, nd in GAINS]
        md.append(f"| {label} | " + " | ".join(cells + gains) + " |")
    return md + [""]
