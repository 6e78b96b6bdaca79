"""RESULTS.md section on where WER can rank systems: the same test speech and noise at several SNRs."""
from __future__ import annotations

from pathlib import Path

from .tables import SCORES_CELL, _scores


def _snr_name(test_set: str, main_snr: str) -> str:
    return f"{test_set[len('test_snr'):]} dB" if test_set.startswith("test_snr") else f"{main_snr} ({test_set})"


def snr_section(rows, main_set: str, snr_sets, summary, main_snr: str = "-5 dB") -> list[str]:
    """WER (Whisper; PocketSphinx PER where scored) of each row on the main test set and on
    its copies at other SNRs (``test_snr<X>``: the same speech, noise and ids, mixed at X dB).

    Args:
        rows: ``(label, system_dir)``.
        summary: ``(system_dir, set) -> score summary``.
    """
    sets = [main_set] + [t for t in snr_sets if all((Path(d) / f"score_{t}" / "summary.json").is_file() for _, d in rows)]
    clean = Path("exp/clean")
    floor = ""
    if (clean / f"score_{main_set}" / "summary.json").is_file():
        c = summary(str(clean), main_set)
        floor = (f" Clean speech (the same at every SNR): Whisper WER {c['wer']:.1f} %"
                 + (f", PocketSphinx WER {c['wer_sphinx']:.1f} %" if "wer_sphinx" in c else "")
                 + (f", PER {c['per_sphinx']:.1f} %" if "per_sphinx" in c else "") + ".")
    md = ["## WER against SNR: where the recogniser can rank systems", "",
          "The test set's speech and noise mixed again at other SNRs (same utterances and noise segments), so WER is "
          f"measured where Whisper tiny.en still hears speech. Cells: {SCORES_CELL}." + floor, "",
          "| System | " + " | ".join(_snr_name(t, main_snr) for t in sets) + " | PocketSphinx PER (%), " + main_set + " |",
          "|---|" + "---|" * len(sets) + "---|"]
    for label, d in rows:
        cells = []
        for t in sets:
            cells.append(_scores(summary(d, t)).replace(" | ", " / "))
        per = summary(d, main_set).get("per_sphinx")
        md.append(f"| {label} | " + " | ".join(cells) + f" | {'–' if per is None else f'{per:.1f}'} |")
    agree = [rank_agreement([summary(d, t) for _, d in rows]) for t in sets]
    per = rank_agreement([summary(d, main_set) for _, d in rows], "per_sphinx")
    md.append("| *does the error rate rank as STOI does?* | " + " | ".join(agree) + f" | {per} |")
    return md + ["", "Last row: Spearman's rank correlation between minus the error rate (WER; PER in the last column) "
                 "and STOI over the rows of each column (+1: the recogniser orders the systems exactly as STOI does; "
                 "0 or below: it does not rank them).", ""]


def rank_agreement(summaries, key: str = "wer") -> str:
    """Spearman's rho between -``key`` (an error rate) and STOI over systems, as a table cell
    ("–" for fewer than 3 systems with that error rate)."""
    pairs = [(-s[key], s["stoi"]) for s in summaries if s.get(key) is not None]
    if len(pairs) < 3:
        return "–"
    from scipy.stats import spearmanr
    rho = spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic
    return f"ρ = {rho:+.2f} ({len(pairs)} rows)"
