"""RESULTS.md's section on the recipe's readings of what the paper leaves open: each alternative
reading beside the default one, the paired difference that decides between them, and one
generated sentence saying which reading the evidence favours and whether the recipe's default
is that reading; and the triplet's margin, from the fraction of active hinges its training logged.

An alternative reading is a system named ``<default system><suffix>`` (a suffix of
:data:`READINGS`) scored beside that default system. The decision uses the metric of the claim
the row serves (Sec. 3.3): intelligibility (WER) for the decoders of teacher embeddings,
enhancement (PESQ and STOI, as the claim "do some enhancement" reads them) for the frozen decoder.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .findings import _iv

#: suffix -> (what the reading decides, the default's value, the alternative's value, deciding metrics)
READINGS = {
    "_upsample": ("the decoder's second input, \"locally duplicating by a factor of 2\" (Sec. 2.5)",
                  "skips: duplicate (a copy of its input: for a convolution, no skip at all)",
                  "skips: upsample (its input upsampled x2 along frequency)", ("wer",)),
    "_bottleneck": ("what the frozen decoder reads, \"the encoder's output\" (Sec. 2.5)",
                    "M(P(f_enc(X))), the predicted teacher embedding", "the 448-wide bottleneck f_enc(X)",
                    ("pesq", "stoi")),
}
#: deciding metric -> (name, decimals, unit, +1 when higher is better)
_METRIC = {"wer": ("WER", 1, " points", -1), "pesq": ("PESQ", 2, "", 1), "stoi": ("STOI", 3, "", 1)}


def reading_pairs(rows) -> list[tuple[str, str, str, str, str]]:
    """``(suffix, alternative label, alternative dir, default label, default dir)`` for each row
    of ``rows`` (``(label, dir)``) whose name is another row's name plus a suffix of :data:`READINGS`."""
    by_name = {Path(d).name: (label, d) for label, d in rows}
    out = []
    for label, d in rows:
        name = Path(d).name
        for suffix in READINGS:
            if name.endswith(suffix) and name[:-len(suffix)] in by_name:
                out.append((suffix, label, d, *by_name[name[:-len(suffix)]]))
    return out


def favoured(diffs: dict) -> int:
    """+1 when the alternative is better on a deciding metric (interval excluding zero) and worse on
    none, -1 for the default likewise, 0 otherwise. ``diffs``: metric -> alternative minus default."""
    better = {k: _METRIC[k][3] * r["diff"] > 0 for k, r in diffs.items() if r["significant"]}
    if any(better.values()) and all(better.values()):
        return 1
    if better and not any(better.values()):
        return -1
    return 0


def verdict_sentence(default: str, alternative: str, side: int | None) -> str:
    """The one sentence of a reading. ``side``: :func:`favoured`'s answer, None when not scored."""
    if side is None:
        return f"Not measured: the run did not score {alternative} beside {default}."
    if side < 0:
        return f"The evidence favours the default, {default}, over {alternative}."
    if side > 0:
        return (f"The evidence favours {alternative} over the recipe's default, {default}: "
                "the default does not follow the evidence here.")
    return (f"The evidence favours neither: the default stays {default}, and {alternative} is not better "
            "on this run.")


def last_logged(train_log: Path, key: str) -> float | None:
    """The last value the trainer logged for ``key`` (``... key VALUE ...`` on a step line)."""
    value = None
    if train_log.is_file():
        for line in train_log.read_text().splitlines():
            words = line.split()
            if " step " in line and key in words[:-1]:
                value = float(words[words.index(key) + 1])
    return value


def triplet_rows(rows) -> list[str]:
    """A line per triplet system of ``rows`` (``(label, dir)``): the hinge's active fraction it logged."""
    out = []
    for label, d in rows:
        cfg = Path(d) / "config.yaml"
        active = last_logged(Path(d) / "train.log", "active")
        if active is None or not cfg.is_file():
            continue
        margin = (yaml.safe_load(cfg.read_text()).get("mode_options") or {}).get("margin")
        d_ap, d_an = (last_logged(Path(d) / "train.log", k) for k in ("d_ap", "d_an"))
        gap = "" if d_ap is None or d_an is None else f", d_ap {d_ap:.1f}, d_an {d_an:.1f}"
        sentence = (f"Every hinge stays active, so L_T = d_ap - d_an + m and the margin is a constant: m = {margin} "
                    "trains as the paper's m = 100 would." if active >= 0.999 else
                    f"The margin switches {100 * (1 - active):.1f} % of the hinges off: it shapes the loss.")
        out.append(f"| {label}: the triplet's margin (Sec. 2.3.3; the paper's m = 100) | m = {margin} | – | "
                   f"fraction of frames with an active hinge at the last logged step: {active:.3f}{gap} | – | "
                   f"{sentence} |")
    return out


def readings_section(ev, rows, table1_rows=()) -> list[str]:
    """The section. Args: ``ev``: :class:`.findings.Evidence`; ``rows``: ``(label, dir)`` of the
    pre-training tables; ``table1_rows``: Table 1's, for the triplet's margin."""
    lines = []
    for suffix, alt_label, alt, def_label, default in reading_pairs(rows):
        what, def_value, alt_value, metrics = READINGS[suffix]
        diffs = {k: ev.diff(alt, default, k) for k in metrics}
        scored = all(r is not None for r in diffs.values())
        side = favoured(diffs) if scored else None
        measured = ("; ".join(f"{_METRIC[k][0]} {_iv(r, _METRIC[k][1], _METRIC[k][2])}" for k, r in diffs.items())
                    if scored else "–")
        winner = {None: "–", 1: "the alternative", -1: "the default", 0: "neither (not decided)"}[side]
        lines.append(f"| {alt_label} beside {def_label}: {what} | {def_value} | {alt_value} | alternative minus "
                     f"default: {measured} | {winner} | {verdict_sentence(def_value, alt_value, side)} |")
    lines += triplet_rows([(label, d) for label, d in table1_rows if Path(d).name.startswith("triplet")])
    if not lines:
        return []
    return ["## The recipe's readings of the paper, measured", "",
            f"Where the paper can be read two ways, the recipe trains the other reading too and scores it on "
            f"{ev.test_set} beside the default (seslib.recipe.report.readings): the paired bootstrap of the "
            "alternative minus the default (95 % interval; a side is favoured when its interval excludes zero on a "
            "deciding metric and it is worse on none), on the metric of the claim the row serves: WER for the "
            "decoders of teacher embeddings (intelligibility), PESQ and STOI for the frozen decoder (enhancement). "
            "One seed: a training seed can move a difference by more than this interval.", "",
            "| Reading | default | alternative | measured | evidence favours | the default, in one sentence |",
            "|---|---|---|---|---|---|", *lines, ""]
