"""The main tables of RESULTS.md and what they read: Table 1 with the Constr. column (each fact
derived: causality measured, parameters counted, SSL use from the loaded model), the held-out-voice
table, the data ablation, the environment and the stage times."""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from ... import augment, dnsmos
from ...checkpoint import read_checkpoint
from ..systems import split_steps

MAX_PARAMS = 4_000_000


def causal_check(fn, seconds: float = 2.0, margin: int = 400, trials: int = 3, seed: int = 0) -> bool:
    """True when replacing the input after t never changes the output before t - margin."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    t_ax = np.arange(n) / 16000
    x = (0.05 * np.sin(2 * np.pi * 200 * t_ax) * (1 + np.sin(2 * np.pi * 3 * t_ax))
         + 0.01 * rng.standard_normal(n)).astype(np.float32)
    y = fn(x)
    scale = float(np.abs(x).max())  # the input's scale: a peer may output near silence
    for t in rng.integers(n // 4, 3 * n // 4, trials):
        x2 = x.copy()
        x2[t:] = (0.05 * rng.standard_normal(n - t)).astype(np.float32)
        y2 = fn(x2)
        if np.max(np.abs(y2[: t - margin] - y[: t - margin])) > 1e-6 * scale:
            return False
    return True


def system_facts(source: str) -> dict:
    """Causality, parameters, latency and SSL use of the system that made a row."""
    if source in ("noisy", "clean"):  # not a system: the input, or the reference itself
        return {"causal": None, "parameters": 0, "latency_ms": 0.0, "ssl": False}
    if source.startswith("peer:"):
        from ... import peers
        peer = peers.PEERS[source[5:]]()
        delay = peers.measure_delay(peer)
        causal = causal_check(peer.enhance)
        return {"causal": causal, "parameters": peer.parameters, "ssl": False,
                "latency_ms": peers.algorithmic_latency_ms(peer, delay) if peer.causal else math.inf}

    from ... import stft
    from ...checkpoint import load_model
    model = load_model(source)
    ck = read_checkpoint(source)
    mode = ck.get("config", {}).get("mode", "base")

    def run(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)[None])[0].numpy()
    ssl = getattr(model, "teacher", None) is not None  # the model runs a teacher when it enhances
    # a model that runs the teacher (a transformer over the whole input) waits for the whole utterance
    return {"causal": causal_check(run), "parameters": model.num_parameters(), "ssl": ssl,
            "latency_ms": math.inf if ssl else 1000 * stft.WIN / 16000, "mode": mode, "step": ck.get("step")}


def _fmt(v, nd):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{nd}f}"


def environment(recipe_dir: Path) -> list[str]:
    root = Path(os.environ.get("SESLIB_ROOT", recipe_dir.resolve().parents[1]))
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)egs/*/RESULTS.md"],  # the file being written is not the code
                               capture_output=True, text=True).stdout.strip()
        commit = commit + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        commit = "unknown"
    cpu = "unknown"
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- machine: {platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, "
            f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}",
            f"- software: Python {platform.python_version()}, torch {torch.__version__}, seslib commit {commit}"]


def stage_times(stamp_dir: Path) -> list[str]:
    lines = []
    stamps = [json.loads(p.read_text()) for p in stamp_dir.glob("*.done")]
    for s in sorted(stamps, key=lambda s: s.get("finished", "")):
        lines.append(f"| {s['name']} | {s.get('title', '')} | {s.get('elapsed_s', 0):.0f} s | {s.get('finished', '')} |")
    return lines


def stage_totals(stamp_dir: Path, systems, sets, stage2=None) -> list[str]:
    """Wall time per stage number, summed over the stamps of this table's systems (stages 0-1 whole;
    stage 2: the stamps named in ``stage2``, all when it is None; stamps of systems trained by
    other runs into the same exp/ are left out)."""
    names = set(systems) | {s[len("peer_"):] for s in systems if s.startswith("peer_")}
    totals, counts = {}, {}
    for p in stamp_dir.glob("*.done"):
        st = json.loads(p.read_text())
        name, stage = st["name"], st["name"].split("_", 1)[0]
        if stage == "2" and stage2 is not None and name not in stage2:
            continue
        if stage in ("3", "4", "5"):
            what = name.split("_", 2)[-1] if stage != "3" else name[len("3_train_"):]
            if stage != "3":
                what = next((what[: -len(t) - 1] for t in sets if what.endswith("_" + t)), None)
            if what not in names:
                continue
        totals[stage] = totals.get(stage, 0.0) + st.get("elapsed_s", 0.0)
        counts[stage] = counts.get(stage, 0) + 1
    lines = [f"| {k} | {counts[k]} | {totals[k] / 60:.1f} min |" for k in sorted(totals)]
    return lines + [f"| all | {sum(counts.values())} | {sum(totals.values()) / 3600:.2f} h |"] if lines else []


def scored_sets(rows, sets) -> list[str]:
    """The first set, and each other set on which every row was scored."""
    return sets[:1] + [t for t in sets[1:] if all((Path(d) / f"score_{t}" / "summary.json").is_file() for _, d, _ in rows)]


def paper_cell(published: dict, system_dir, keys=("pesq", "stoi", "si_sdr")) -> str:
    """The paper's ``keys`` of a row (``--published``), "/"-separated, "–" where it gives none."""
    p = published.get(str(system_dir))
    if not p:
        return "–"
    return " / ".join("–" if k not in p else f"{p[k]:g}" for k in keys)


def _summary(system_dir, test_set: str) -> dict:
    path = Path(system_dir) / f"score_{test_set}" / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (score the system first)")
    return json.loads(path.read_text())


def training_data(cfg: dict) -> str:
    """What a checkpoint was trained on, from its config: static crops or dynamic mixing,
    and the augmentations that are on (with their probabilities)."""
    data = cfg.get("data", {})
    if not data.get("dynamic_mixing"):
        return "static mixtures"
    on = [f"{k} {p:g}" for k, p in augment.enabled(cfg.get("augment")).items()]
    return "dynamic mixing" + (" + " + ", ".join(on) if on else "")


def checkpoint_budget(checkpoint, cfg: dict | None = None) -> str:
    """``N steps x batch x crop s`` of a checkpoint's training config."""
    if cfg is None:
        cfg = read_checkpoint(checkpoint)["config"]
    tc = cfg["train"]
    return f"{tc['max_steps']} steps x {tc['batch_size']} x {tc['crop_seconds']:g} s"


_BUDGETS: dict = {}


def system_budget(system_dir) -> dict | None:
    """A system's total training budget read from the checkpoints of its chain (its own
    ``best.pt`` and those its init read: :func:`seslib.recipe.budget.total`), None for a row that
    was not trained here (the input, a peer) or whose chain is not on disk."""
    from ..budget import total
    d = Path(system_dir)
    if d in _BUDGETS:
        return _BUDGETS[d]
    try:
        b = total(d.name, lambda s: read_checkpoint(d.parent / s / "best.pt")["config"])
    except (FileNotFoundError, KeyError, OSError, ValueError):
        b = None
    _BUDGETS[d] = b
    return b


def budget_cell(system_dir) -> str:
    """``steps / hours of audio`` of :func:`system_budget`, pre-training included ("–" without one)."""
    b = system_budget(system_dir)
    return "–" if b is None else f"{b['steps']} / {b['hours']:.1f} h"


def matched_reference(system_dir, candidates) -> str | None:
    """The dir among ``candidates`` (Base, ``base_steps<N>``) of a Base trained for as many steps as
    ``system_dir``'s whole chain, None when there is none."""
    b = system_budget(system_dir)
    for d in candidates:
        if split_steps(Path(d).name)[0] == "base" and b is not None and (system_budget(d) or {}).get("steps") == b["steps"]:
            return d
    return None


def valid_curve(train_log: Path) -> list[tuple[int, float]]:
    """``(step, valid SI-SDR)`` pairs logged by the trainer."""
    out = []
    if train_log.is_file():
        for line in train_log.read_text().splitlines():
            if ": valid SI-SDR " in line and " step " in line:
                step = int(line.split(" step ", 1)[1].split(":", 1)[0])
                out.append((step, float(line.split(": valid SI-SDR ", 1)[1].split()[0])))
    return out


#: the DNSMOS columns of a score summary (seslib.dnsmos), with their table names
DNSMOS = tuple(zip(dnsmos.COLUMNS, dnsmos.LABELS))
#: what the cells of :func:`_scores` hold, for the tables' headers and captions
SCORES_CELL = "PESQ / STOI / SI-SDR (dB) / WER (%) / DNSMOS OVRL"
SIGNAL_CELL = "PESQ / STOI / SI-SDR (dB) / DNSMOS OVRL"


def _scores(s: dict) -> str:
    """PESQ | STOI | SI-SDR | WER | DNSMOS OVRL of a summary ("–" where not scored)."""
    return (f"{_fmt(s['pesq'], 2)} | {_fmt(s['stoi'], 3)} | {_fmt(s['si_sdr'], 2)} | {_fmt(s.get('wer'), 1)} | "
            f"{_fmt(s.get('dnsmos_ovrl'), 2)}")


def signal_cell(s: dict) -> str:
    """``PESQ / STOI / SI-SDR / DNSMOS OVRL`` of a summary, one table cell (sets without transcripts)."""
    return f"{_fmt(s['pesq'], 2)} / {_fmt(s['stoi'], 3)} / {_fmt(s['si_sdr'], 2)} / {_fmt(s.get('dnsmos_ovrl'), 2)}"


def dnsmos_cells(s: dict) -> str:
    """``SIG | BAK | OVRL | P.808`` of a summary ("–" where DNSMOS was not scored)."""
    return " | ".join(_fmt(s.get(k), 2) for k, _ in DNSMOS)


def _delta(a: dict, b: dict, key: str, nd: int) -> str:
    if a.get(key) is None or b.get(key) is None:
        return "–"
    return f"{a[key] - b[key]:+.{nd}f}"


def heldout_section(rows, sets) -> list[str]:
    """Every row scored on the second test set, and its difference to the first."""
    seen, held = sets[0], sets[1]
    md = [f"## Held-out voices ({held})", "",
          f"The same systems on `{held}`, read by voices that occur nowhere in training, validation or `{seen}`; "
          f"Δ = {held} − {seen} (the generalisation gap; negative: worse on unheard voices).", "",
          "| Model | PESQ | STOI | SI-SDR (dB) | WER (%) | DNSMOS OVRL | Δ PESQ | Δ STOI | Δ SI-SDR | Δ OVRL "
          "| utterances |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, d, _ in rows:
        if not (Path(d) / f"score_{held}" / "summary.json").is_file():
            continue  # scored on the first set only
        a, b = _summary(d, held), _summary(d, seen)
        md.append(f"| {label} | {_scores(a)} | {_delta(a, b, 'pesq', 2)} | {_delta(a, b, 'stoi', 3)} | "
                  f"{_delta(a, b, 'si_sdr', 2)} | {_delta(a, b, 'dnsmos_ovrl', 2)} | {a['utterances']} |")
    return md + [""]


def ablation_section(rows, sets, stamp_dir: Path) -> list[str]:
    """The data-ablation table (see the module docstring) and the valid curves."""
    md = ["## Training data: static mixtures, dynamic mixing, augmentation", "",
          f"Base trained with the same budget on different data pipelines. Scores per test set as {SCORES_CELL}; "
          "gap = " + (f"{sets[1]} − {sets[0]}" if len(sets) > 1 else "–")
          + "; gap of gains: the same difference of each system's gain over the noisy input of each set "
            "(removes how hard each set's input is).", "",
          "| System | training data | budget | train wall time | best valid SI-SDR (step) | "
          + " | ".join(f"{t}: {SCORES_CELL}" for t in sets)
          + (" | gap PESQ / STOI / SI-SDR | gap of gains PESQ / STOI / SI-SDR |" if len(sets) > 1 else " |"),
          "|---|---|---|---|---|" + "---|" * len(sets) + ("---|---|" if len(sets) > 1 else "")]
    curves = []
    noisy = next(([_summary(d, t) for t in sets] for _, d, src in rows if src == "noisy"), None)
    for label, d, src in rows:
        summ = [_summary(d, t) for t in sets]
        if src in ("noisy", "clean"):
            data = budget = wall = best = "–"
        else:
            ck = read_checkpoint(src)
            cfg = ck["config"]
            data = training_data(cfg)
            budget = checkpoint_budget(src, cfg)
            stamp = stamp_dir / f"3_train_{Path(d).name}.done"
            wall = f"{json.loads(stamp.read_text())['elapsed_s']:.0f} s" if stamp.is_file() else "–"
            b = ck.get("best", {})
            best = f"{b['score']:.2f} dB ({b['step']})" if b.get("step") else "–"
            curves.append((label, valid_curve(Path(d) / "train.log")))
        gap = ""
        if len(sets) > 1:
            gap = (f" | {_delta(summ[1], summ[0], 'pesq', 2)} / {_delta(summ[1], summ[0], 'stoi', 3)} / "
                   f"{_delta(summ[1], summ[0], 'si_sdr', 2)} | ")
            if noisy is not None and src != "noisy":
                gain = [{k: s[k] - n[k] for k in ("pesq", "stoi", "si_sdr")} for s, n in zip(summ, noisy)]
                gap += (f"{_delta(gain[1], gain[0], 'pesq', 2)} / {_delta(gain[1], gain[0], 'stoi', 3)} / "
                        f"{_delta(gain[1], gain[0], 'si_sdr', 2)}")
            else:
                gap += "–"
        md.append(f"| {label} | {data} | {budget} | {wall} | {best} | "
                  + " | ".join(_scores(s).replace(" | ", " / ") for s in summ) + gap + " |")
    steps = sorted({st for _, c in curves for st, _ in c})
    if steps:
        md += ["", "Valid SI-SDR (dB, the fixed pre-mixed `data/valid`) against training steps:", "",
               "| System | " + " | ".join(str(st) for st in steps) + " |", "|---|" + "---|" * len(steps)]
        for label, c in curves:
            d = dict(c)
            md.append(f"| {label} | " + " | ".join(f"{d[st]:.2f}" if st in d else "–" for st in steps) + " |")
    return md + [""]
