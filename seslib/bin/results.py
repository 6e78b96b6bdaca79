"""Write the results table (RESULTS.md) from scored systems, with facts, not typed claims.

  python -m seslib.bin.results --out RESULTS.md --sets test test_heldout \\
      --row "Noisy input" exp/noisy noisy \\
      --row "Base GCRN" exp/base exp/base/best.pt \\
      --row "RNNoise" exp/peer_rnnoise peer:rnnoise \\
      --ablation-row "Base, static mixtures" exp/base_static exp/base_static/best.pt

Each row: a label, a system dir whose ``score_<set>/summary.json`` (seslib.bin.score)
holds its scores on each test set of ``--sets``, and where the audio came from (``clean``
or ``noisy`` for the reference and the input, a checkpoint, or ``peer:NAME``). The first
set makes the main table; a second set (the held-out-voice test) gets a table of its own
with the difference to the first (the generalisation gap). ``--ablation-row`` systems make
the data-ablation table: the training data of each (static / dynamic mixing / which
augmentations, read from the checkpoint's config), its budget, training wall time, valid
curve, and scores on every set. ``--teacher-row`` systems make the teacher-ablation table
(each mode with the real teacher, its random twin, the offline pre-trained one), and
``--teacher-check`` files the content-check table. ``--pretrain-row`` and ``--finetune-row``
systems make the paper's Tables 2 and 3 (pre-trained models as they are, and fine-tuned
beside Base), with each one's budget, initialisation and best validation score. ``--corpus-row``
systems make the training-corpus table (Base on synthetic sources, + real noise, + real voices;
gains over the noisy input with bootstrap intervals), and a set named ``test_real`` (real voices in
real noise; its ``--snr-sets`` copies ``test_real_snr<X>``) a table of every row scored on it. The Constr. column (paper,
Table 1: fit for on-device use) is derived for each system:

- causal: measured, black-box: the input after a time t is replaced and no output
  sample before t - 25 ms may change (for peers, on their raw output, before the delay
  is removed);
- parameters < 4 M: counted (checkpoint weights; DFN3's ONNX initializers; RNNoise's
  float weight tables in its library);
- no SSL model at inference: whether the loaded model runs a teacher when it enhances
  (the ``concat`` modes);
- algorithmic latency is reported beside it (GCRN: its window; peers: measured delay).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from .. import augment, logutil
from ..fileutil import atomic_write_text
from .results_analysis import analysis_section
from .results_corpus import corpus_section, real_section
from .results_pretrain import table2_section, table3_section
from .results_stats import intervals_section, seed_cost, seed_section
from .results_teacher import content_check_section, pretrain_section, teacher_ablation_section
from .results_wer import snr_section

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
        from .. import peers
        peer = peers.PEERS[source[5:]]()
        delay = peers.measure_delay(peer)
        causal = causal_check(peer.enhance)
        return {"causal": causal, "parameters": peer.parameters, "ssl": False,
                "latency_ms": 1000 * delay / 16000 if peer.causal else math.inf}
    import torch

    from .. import stft
    from ..checkpoint import load_model
    model = load_model(source)
    ck = torch.load(source, map_location="cpu", weights_only=False)
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
    import torch
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
        import torch
        cfg = torch.load(checkpoint, map_location="cpu", weights_only=False)["config"]
    tc = cfg["train"]
    return f"{tc['max_steps']} steps x {tc['batch_size']} x {tc['crop_seconds']:g} s"


def valid_curve(train_log: Path) -> list[tuple[int, float]]:
    """``(step, valid SI-SDR)`` pairs logged by the trainer."""
    out = []
    if train_log.is_file():
        for line in train_log.read_text().splitlines():
            if ": valid SI-SDR " in line and " step " in line:
                step = int(line.split(" step ", 1)[1].split(":", 1)[0])
                out.append((step, float(line.split(": valid SI-SDR ", 1)[1].split()[0])))
    return out


def _scores(s: dict) -> str:
    return f"{_fmt(s['pesq'], 2)} | {_fmt(s['stoi'], 3)} | {_fmt(s['si_sdr'], 2)} | {_fmt(s.get('wer'), 1)}"


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
          "| Model | PESQ | STOI | SI-SDR (dB) | WER (%) | Δ PESQ | Δ STOI | Δ SI-SDR | utterances |",
          "|---|---|---|---|---|---|---|---|---|"]
    for label, d, _ in rows:
        if not (Path(d) / f"score_{held}" / "summary.json").is_file():
            continue  # scored on the first set only
        a, b = _summary(d, held), _summary(d, seen)
        md.append(f"| {label} | {_scores(a)} | {_delta(a, b, 'pesq', 2)} | {_delta(a, b, 'stoi', 3)} | "
                  f"{_delta(a, b, 'si_sdr', 2)} | {a['utterances']} |")
    return md + [""]


def ablation_section(rows, sets, stamp_dir: Path) -> list[str]:
    """The data-ablation table (see the module docstring) and the valid curves."""
    import torch
    md = ["## Training data: static mixtures, dynamic mixing, augmentation", "",
          "Base trained with the same budget on different data pipelines. Scores per test set as PESQ / STOI / "
          "SI-SDR (dB) / WER (%); gap = " + (f"{sets[1]} − {sets[0]}" if len(sets) > 1 else "–")
          + "; gap of gains: the same difference of each system's gain over the noisy input of each set "
            "(removes how hard each set's input is).", "",
          "| System | training data | budget | train wall time | best valid SI-SDR (step) | "
          + " | ".join(f"{t}: PESQ / STOI / SI-SDR / WER" for t in sets)
          + (" | gap PESQ / STOI / SI-SDR | gap of gains PESQ / STOI / SI-SDR |" if len(sets) > 1 else " |"),
          "|---|---|---|---|---|" + "---|" * len(sets) + ("---|---|" if len(sets) > 1 else "")]
    curves = []
    noisy = next(([_summary(d, t) for t in sets] for _, d, src in rows if src == "noisy"), None)
    for label, d, src in rows:
        summ = [_summary(d, t) for t in sets]
        if src in ("noisy", "clean"):
            data = budget = wall = best = "–"
        else:
            ck = torch.load(src, map_location="cpu", weights_only=False)
            cfg = ck["config"]
            tc = cfg["train"]
            data = training_data(cfg)
            budget = checkpoint_budget(src, cfg)
            stamp = stamp_dir / f"3_train_{Path(d).name}.done"
            wall = f"{json.loads(stamp.read_text())['elapsed_s']:.0f} s" if stamp.is_file() else "–"
            b = ck.get("best", {})
            best = f"{b['valid_si_sdr']:.2f} dB ({b['step']})" if b.get("step") else "–"
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


def comparisons(args) -> list[tuple[str, list]]:
    """The groups of the bootstrap section: ``(title, [(label, dir, reference dir, reference label)])``."""
    base = next((d for _, d, src in args.row if Path(d).name == "base"), None)
    groups = []
    if base:
        groups.append(("Table 1 and the peers, minus Base", [(label, d, base, "Base") for label, d, src in args.row
                                                             if src not in ("clean", "noisy") and d != base]))
    abl = [(label, d) for label, d, src in args.ablation_row if src not in ("clean", "noisy")]
    groups.append(("Data ablation, each minus the row before it",
                   [(label, d, ref_d, ref_l) for (ref_l, ref_d), (label, d) in zip(abl, abl[1:])]))
    twins = {label: d for label, d, _ in args.teacher_row if "_teacher-random" in Path(d).name}
    groups.append(("Teacher ablation, each minus the same mode with the random twin",
                   [(f"{label} ({Path(d).name})", d, twins[label], "random twin") for label, d, _ in args.teacher_row
                    if label in twins and d != twins[label] and Path(d).name != "base"]))
    noisy = next((d for _, d, src in args.row if src == "noisy"), None)
    if noisy:
        groups.append(("Table 2, minus the noisy input", [(label, d, noisy, "Noisy input") for label, d, _ in args.pretrain_row
                                                         if "(i)" not in label]))
    if base:
        groups.append(("Table 3, minus Base", [(label, d, base, "Base") for label, d, _ in args.finetune_row if d != base]))
    return groups


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.results", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="markdown file to write (e.g. RESULTS.md)")
    p.add_argument("--row", nargs=3, action="append", required=True, metavar=("LABEL", "SYSTEM_DIR", "SOURCE"),
                   help="a system: label, its dir (with score_<set>/summary.json), and clean | noisy | "
                        "CHECKPOINT | peer:NAME")
    p.add_argument("--sets", nargs="+", default=["test"],
                   help="test sets (default test); a second one (e.g. test_heldout) gets its own table with the gap")
    p.add_argument("--ablation-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "SOURCE"),
                   help="a system of the data-ablation table (as --row)")
    p.add_argument("--corpus-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "SOURCE"),
                   help="a system of the training-corpus table (as --row; the noisy input's SOURCE is noisy)")
    p.add_argument("--title", default="Results", help="heading of the table")
    p.add_argument("--note", default="", help="a paragraph under the heading (corpus, command, ...)")
    p.add_argument("--stamp-dir", default="exp/stages", help="stage stamps, for the wall-time table")
    p.add_argument("--teacher-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "CHECKPOINT"),
                   help="a system of the teacher-ablation table (its teacher is read from the checkpoint)")
    p.add_argument("--pretrain-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "CHECKPOINT"),
                   help="a system of Table 2 (enhancement from the pre-trained models)")
    p.add_argument("--finetune-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "CHECKPOINT"),
                   help="a system of Table 3 (pre-trained, fine-tuned; Base among them as the reference)")
    p.add_argument("--snr-sets", nargs="*", default=[],
                   help="copies of test sets at other SNRs (test_snr<X>: the first set's; test_real_snr<X>: test_real's)")
    p.add_argument("--snr-row", nargs=2, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR"),
                   help="a system of the WER-against-SNR table")
    p.add_argument("--trained", nargs="*", default=[],
                   help="systems trained by the run but in no table (e.g. the encoder pre-training): their stage "
                        "times count in the totals")
    p.add_argument("--seed-row", nargs=2, action="append", default=[], metavar=("LABEL", "SYSTEM_DIRS"),
                   help="a system of the seed-spread table: label and its dirs, one per training seed (space-separated)")
    p.add_argument("--analysis-dir", help="the embedding analysis's outputs (exp/analysis: lags/, spectra/)")
    p.add_argument("--decoded-row", nargs=2, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR"),
                   help="speech decoded from embeddings, (b) teacher or (c) student in LABEL (Fig. 5)")
    p.add_argument("--student", help="checkpoint of the teacher-shaped student (Sec. 3.5)")
    p.add_argument("--fig-dir", help="where the figures go, linked from --out (default: figures/ beside it)")
    p.add_argument("--teacher-check", nargs="*", default=[], help="content-check JSON files (seslib.bin.teacher_check)")
    p.add_argument("--teacher-dir", help="experiment dir of the offline-pre-trained teacher (exp/teacher): "
                                         "adds its training summary")
    args = p.parse_args(argv)
    logutil.setup()
    rows = []
    try:
        for d in [r[1] for r in args.ablation_row + args.corpus_row]:
            for t in args.sets:
                _summary(d, t)
        for d in [r[1] for r in args.row + args.teacher_row + args.pretrain_row + args.finetune_row + args.snr_row]:
            _summary(d, args.sets[0])  # the other sets where every row of the table has them
    except FileNotFoundError as exc:
        print(f"results: {exc}", file=sys.stderr)
        return 1
    for label, system_dir, source in args.row:
        s = _summary(system_dir, args.sets[0])
        f = system_facts(source)
        ok = (None if f["causal"] is None else
              bool(f["causal"] and not f["ssl"] and f["parameters"] is not None and f["parameters"] < MAX_PARAMS))
        params = f["parameters"]
        lat = f["latency_ms"]
        rows.append(
            f"| {label} | {_fmt(s['pesq'], 2)} | {_fmt(s['stoi'], 2)} | {_fmt(s['si_sdr'], 1)} | "
            f"{_fmt(s.get('wer'), 1)} | {'–' if ok is None else ('✓' if ok else '✗')} | "
            f"{'–' if f['causal'] is None else ('yes' if f['causal'] else 'no')} | "
            f"{'–' if not params else f'{params / 1e6:.2f} M'} | "
            f"{'whole utterance' if lat == math.inf else ('–' if not lat else f'{lat:.0f} ms')} | "
            f"{'yes' if f['ssl'] else 'no'} | {s['utterances']} ({s.get('pesq_failures', 0)}) | "
            f"{_fmt(s.get('wer_sphinx'), 1)} / {_fmt(s.get('per_sphinx'), 1)} |")
    recipe = Path.cwd()
    md = [f"# {args.title}", ""]
    if args.note:
        md += [args.note, ""]
    md += ["| Model | PESQ | STOI | SI-SDR (dB) | WER (%) | Constr. | causal | parameters | algorithmic latency "
           "| SSL at inference | utterances (PESQ failures) | PocketSphinx WER / PER (%) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|", *rows, "",
           "Constr. = causal, < 4 M parameters and no SSL model at inference (paper, Table 1), each derived: "
           "causality by a perturbation check, parameters counted (enhancer only), SSL use from the loaded model. "
           "PESQ is wide band; WER by the offline Whisper tiny.en (seslib.asr), corpus level; the clean "
           "reference row is the ASR's own error on the clean speech. PocketSphinx (seslib.asr_sphinx), a recogniser "
           "that shares nothing with a Whisper teacher: phone error rate where scored, WER for the clean speech.", ""]
    if len(args.sets) > 1 and any((Path(r[1]) / f"score_{args.sets[1]}" / "summary.json").is_file() for r in args.row):
        md += heldout_section(args.row, args.sets)
    if "test_real" in args.sets:
        md += real_section(args.row + [r for r in args.corpus_row if r[1] not in {d for _, d, _ in args.row}],
                           "test_real", args.snr_sets, _summary)
    if args.ablation_row:
        md += ablation_section(args.ablation_row, args.sets, Path(args.stamp_dir))
    if args.corpus_row:
        md += corpus_section(args.corpus_row, args.sets, _summary, Path(args.stamp_dir), checkpoint_budget)
    if args.teacher_row:
        md += teacher_ablation_section(args.teacher_row, scored_sets(args.teacher_row, args.sets), _summary, _scores)
    if args.pretrain_row:
        md += table2_section(args.pretrain_row, scored_sets(args.pretrain_row, args.sets), _summary, _scores,
                             Path(args.stamp_dir))
    if args.finetune_row:
        md += table3_section(args.finetune_row, scored_sets(args.finetune_row, args.sets), _summary, _scores,
                             Path(args.stamp_dir))
    if args.snr_row:
        md += snr_section(args.snr_row, args.sets[0], [t for t in args.snr_sets if t.startswith("test_snr")], _summary)
    base_seeds = next((dirs.split() for _, dirs in args.seed_row if Path(dirs.split()[0]).name == "base"), None)
    md += intervals_section(comparisons(args), args.sets[0], base_seeds)
    if args.seed_row:
        md += seed_section(args.seed_row, args.sets[0], seed_cost(Path(args.stamp_dir), args.seed_row))
    if args.analysis_dir:
        fig_dir = Path(args.fig_dir) if args.fig_dir else Path(args.out).resolve().parent / "figures"
        md += analysis_section(Path(args.analysis_dir), args.student, args.decoded_row, _summary, args.sets[0],
                               Path(args.stamp_dir), fig_dir)
    teacher_md = content_check_section(args.teacher_check)
    if args.teacher_dir and Path(args.teacher_dir).is_dir():
        teacher_md += pretrain_section(Path(args.teacher_dir))
    if teacher_md:
        md += ["## Teachers", "", *teacher_md]
    md += ["## Environment", "", *environment(recipe), ""]
    times = stage_times(Path(args.stamp_dir))
    if times:
        # stage 2 of this run: the teacher pre-training when its table is shown, the content checks shown
        stage2 = {f"2_teacher_check_{Path(f).stem}" for f in args.teacher_check}
        if args.teacher_dir and Path(args.teacher_dir).is_dir():
            stage2.add("2_teacher")
        systems = [Path(r[1]).name for r in args.row + args.ablation_row + args.corpus_row + args.teacher_row + args.pretrain_row
                   + args.finetune_row + args.snr_row + args.decoded_row] + args.trained
        systems += [Path(d).name for _, dirs in args.seed_row for d in dirs.split()]
        if args.student:
            systems.append(Path(args.student).parent.name)
        md += ["## Stage wall times", "", "Per stage, the systems of these tables (run one after another, so the "
               "sum is the run's time when nothing else ran beside it):", "",
               "| stage | stamps | wall time |", "|---|---|---|",
               *stage_totals(Path(args.stamp_dir), systems, args.sets + args.snr_sets, stage2),
               "", "| stage | what | wall time | finished |", "|---|---|---|---|", *times, ""]
    atomic_write_text(args.out, "\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
