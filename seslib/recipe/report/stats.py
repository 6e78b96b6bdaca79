"""RESULTS.md sections that say which differences are established: paired bootstrap intervals
of every table row against its reference, and the training-seed spread."""
from __future__ import annotations

import json
from pathlib import Path

from ...analysis.compare import compare, read_scores
from ..systems import split_steps
from .tables import DNSMOS, matched_reference

METRICS = (("pesq", "PESQ", 2), ("stoi", "STOI", 3), ("si_sdr", "SI-SDR (dB)", 2), ("wer", "WER (points)", 1),
           *((k, ("DNSMOS " if i == 0 else "") + name, 2) for i, (k, name) in enumerate(DNSMOS)))


def _cell(r: dict | None, nd: int) -> str:
    if r is None:
        return "–"
    star = " *" if r["significant"] else ""
    return f"{r['diff']:+.{nd}f} [{r['low']:+.{nd}f}, {r['high']:+.{nd}f}]{star}"


def interval_rows(comparisons, test_set: str, seed_width: float | None = None) -> list[str]:
    """Table lines, one per ``(label, system_dir, reference_dir, reference_label)``, of the paired
    bootstrap of the system minus its reference; comparisons whose scores are missing are left out.
    With ``seed_width`` (the range of Base's SI-SDR over training seeds) a last column says whether
    the SI-SDR difference is beyond it."""
    lines, cache = [], {}

    def scores(d):
        if d not in cache:
            cache[d] = read_scores(Path(d) / f"score_{test_set}")
        return cache[d]
    for label, d, ref, ref_label in comparisons:
        try:
            r = compare(scores(d), scores(ref))
        except (FileNotFoundError, ValueError):
            continue
        n = max((v["n"] for v in r.values()), default=0)
        beyond = "" if seed_width is None else (" – |" if "si_sdr" not in r else
                                                f" {'yes' if abs(r['si_sdr']['diff']) > seed_width else 'no'} |")
        lines.append(f"| {label} | {ref_label} | " + " | ".join(_cell(r.get(k), nd) for k, _, nd in METRICS)
                     + f" | {n} |" + beyond)
    return lines


def intervals_section(groups, test_set: str, base_seeds=None) -> list[str]:
    """Paired bootstrap intervals (95 %, 1000 resamples, seed 0) of each row minus its reference.

    Args:
        groups: ``(title, comparisons)``, comparisons as in :func:`interval_rows`.
        base_seeds: Base's dirs, one per training seed: adds whether each SI-SDR difference
            exceeds Base's range over seeds.
    """
    spread = seed_spread(base_seeds, test_set) if base_seeds and len(base_seeds) > 1 else None
    width = max(spread["si_sdr"]) - min(spread["si_sdr"]) if spread and "si_sdr" in spread else None
    md = ["## Which differences are established: paired bootstrap over test utterances", "",
          f"Each row minus its reference on {test_set}, with the 95 % interval of the difference from 1000 paired "
          "resamples of the test utterances (seed 0; the same utterances drawn for both systems). PESQ, STOI, "
          "SI-SDR and DNSMOS (where scored): difference of the means; WER: difference of corpus WER in points, errors and reference words "
          "resampled together. `*`: the interval excludes zero. This measures test-sample noise only: a model "
          "trained again with another seed differs by more (next section)"
          + ("" if width is None else f"; the last column says whether the SI-SDR difference exceeds Base's range over "
             f"its {len(base_seeds)} training seeds ({width:.2f} dB), the smallest difference that training noise alone "
             "does not produce here") + ".", ""]
    extra = "" if width is None else " beyond Base's seed range? |"
    head = ["| System | minus | " + " | ".join(name for _, name, _ in METRICS) + " | utterances |" + extra,
            "|---|---|" + "---|" * len(METRICS) + "---|" + ("---|" if extra else "")]
    for title, comparisons in groups:
        rows = interval_rows(comparisons, test_set, width)
        if rows:
            md += [f"**{title}**", "", *head, *rows, ""]
    return md


def _summary(d, test_set):
    path = Path(d) / f"score_{test_set}" / "summary.json"
    return json.loads(path.read_text()) if path.is_file() else None


def seed_spread(dirs, test_set: str) -> dict | None:
    """Per metric, the values of every seed's model (None when one is not scored)."""
    sums = [_summary(d, test_set) for d in dirs]
    if any(s is None for s in sums):
        return None
    return {k: [s.get(k) for s in sums] for k, _, _ in METRICS if all(s.get(k) is not None for s in sums)}


def _mean_range(values, nd):
    return f"{sum(values) / len(values):.{nd}f} ({min(values):.{nd}f}..{max(values):.{nd}f})"


def seed_cost(stamp_dir: Path, seed_rows) -> str:
    """What the extra seeds cost, from the stage stamps of their systems (``<S>_seed<N>``)."""
    extra = {Path(d).name for _, dirs in seed_rows for d in dirs.split()[1:]}
    train = other = 0.0
    n = 0
    for p in Path(stamp_dir).glob("*.done"):
        st = json.loads(p.read_text())
        name = st.get("name", "")
        if any(name == f"3_train_{s}" for s in extra):
            train, n = train + st.get("elapsed_s", 0.0), n + 1
        elif name.startswith(("4_", "5_")) and any(f"_{s}_" in name for s in extra):
            other += st.get("elapsed_s", 0.0)
    if not n:
        return ""
    return (f"{n} extra trainings, {train / 60:.0f} min, and {other / 60:.0f} min of enhancement and scoring "
            "(stage stamps)")


def seed_section(seed_rows, test_set: str, cost: str = "") -> list[str]:
    """Mean and range over training seeds, and whether each row's difference from Base is real.

    Args:
        seed_rows: ``(label, "dir dir_seedN ...")``; each row's reference is the Base row (``exp/base``
            or ``exp/base_steps<N>``) of its total steps, ``exp/base`` where there is none.

    A difference is called real when the paired bootstrap interval of the first seed's models
    excludes zero and the two systems' seed ranges do not overlap (every seed of one beats
    every seed of the other).
    """
    spreads = [(label, dirs.split(), seed_spread(dirs.split(), test_set)) for label, dirs in seed_rows]
    spreads = [x for x in spreads if x[2]]
    bases = {x[1][0]: x for x in spreads if split_steps(Path(x[1][0]).name)[0] == "base"}
    if not spreads:
        return []
    md = ["## Training-seed spread", "",
          f"Each system trained again with other training seeds (`train.seed`: initial weights, batch order and the "
          f"dynamic mixtures; the same corpus), scored on {test_set}: mean (min..max) over the seeds. Reference: the "
          "Base trained for the same total steps as the row (pre-training included; Table 1's Base where none was). "
          "Δ: difference of the means from it. Real: the first seed's paired bootstrap interval excludes zero *and* "
          "the seed ranges of the row and its reference do not overlap." + (f" Cost: {cost}." if cost else ""), "",
          "| System | seeds | " + " | ".join(name for _, name, _ in METRICS) + " | reference | Δ (SI-SDR) | real? |",
          "|---|---|" + "---|" * len(METRICS) + "---|---|---|"]
    for label, dirs, sp in spreads:
        cells = [_mean_range(sp[k], nd) if k in sp else "–" for k, _, nd in METRICS]
        delta = verdict = ref_label = "–"
        ref = None if dirs[0] in bases else bases.get(matched_reference(dirs[0], list(bases)) or "exp/base")
        if ref is not None:
            ref_label = ref[0]
            b = ref[2]["si_sdr"]
            a = sp["si_sdr"]
            delta = f"{sum(a) / len(a) - sum(b) / len(b):+.2f}"
            try:
                boot = compare(read_scores(Path(dirs[0]) / f"score_{test_set}"),
                               read_scores(Path(ref[1][0]) / f"score_{test_set}"))["si_sdr"]
                separate = min(a) > max(b) or max(a) < min(b)
                verdict = "yes" if boot["significant"] and separate else (
                    "no: seed ranges overlap" if boot["significant"] else "no: bootstrap")
            except (FileNotFoundError, ValueError, KeyError):
                verdict = "–"
        md.append(f"| {label} | {len(dirs)} | " + " | ".join(cells) + f" | {ref_label} | {delta} | {verdict} |")
    return md + [""]
