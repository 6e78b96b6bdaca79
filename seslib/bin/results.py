"""Write the results table (RESULTS.md) from scored systems, with facts, not typed claims.

  python -m seslib.bin.results --out RESULTS.md \\
      --row "Noisy input" exp/score/noisy noisy \\
      --row "Base GCRN" exp/score/base exp/base/best.pt \\
      --row "RNNoise" exp/score/rnnoise peer:rnnoise

Each row: a label, a score dir (summary.json of seslib.bin.score) and where the audio
came from (``clean`` or ``noisy`` for the reference and the input, a checkpoint, or
``peer:NAME``). The Constr. column (paper,
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

from .. import logutil
from ..fileutil import atomic_write_text

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
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
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


def teacher_section(teacher_dir: Path) -> list[str]:
    """Markdown on an offline-pre-trained teacher: size, last logged losses, content check."""
    md = ["## Teacher", ""]
    info = teacher_dir / "teacher" / "seslib_pretraining.json"
    log_lines = (teacher_dir / "train.log").read_text().splitlines() if (teacher_dir / "train.log").is_file() else []
    first = next((line for line in log_lines if "parameters" in line), "")
    steps = [line for line in log_lines if " step " in line and "contrastive" in line]
    if info.is_file():
        md.append(f"Pre-trained offline by stage 2 ({json.loads(info.read_text())['steps']} steps); "
                  + (first.split(": ", 1)[1] if ": " in first else "") + ".")
    if steps:
        pick = [steps[0]] + steps[len(steps) // 2: len(steps) // 2 + 1] + [steps[-1]]
        md += ["", "| logged at | step and losses (averaged since the previous line) |", "|---|---|"]
        md += [f"| {line[:19]} | {line[20:].split(' step ', 1)[-1] if ' step ' in line[20:] else line[20:]} |"
               for line in pick]
    check = teacher_dir / "content_check.json"
    if check.is_file():
        c = json.loads(check.read_text())
        md += ["", f"Content check (seslib.bin.teacher_check): {c['sentences']} held-out sentences, each "
                   f"synthesised by {c['voices'][0]} and {c['voices'][1]}; DTW distance (cosine, standardised "
                   "last-layer features) of the same sentence by the other voice versus other sentences by the "
                   "same voice.", "",
               "| teacher | same sentence, other voice | other sentence, same voice | same sentence closer |",
               "|---|---|---|---|"]
        for name in ("trained", "random_init"):
            r = c[name]
            md.append(f"| {name.replace('_', ' ')} | {r['same_sentence_other_voice']:.4f} | "
                      f"{r['other_sentence_same_voice']:.4f} | {100 * r['same_sentence_closer']:.1f}% "
                      f"of {r['comparisons']} |")
    return md + [""]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.results", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="markdown file to write (e.g. RESULTS.md)")
    p.add_argument("--row", nargs=3, action="append", required=True, metavar=("LABEL", "SCORE_DIR", "SOURCE"),
                   help="a system: label, score dir, and clean | noisy | CHECKPOINT | peer:NAME")
    p.add_argument("--title", default="Results", help="heading of the table")
    p.add_argument("--note", default="", help="a paragraph under the heading (corpus, command, ...)")
    p.add_argument("--stamp-dir", default="exp/stages", help="stage stamps, for the wall-time table")
    p.add_argument("--teacher-dir", help="experiment dir of an offline-pre-trained teacher (exp/teacher): "
                                         "adds its training summary and content check")
    args = p.parse_args(argv)
    logutil.setup()
    rows = []
    for label, score_dir, source in args.row:
        summary = Path(score_dir) / "summary.json"
        if not summary.is_file():
            print(f"results: {summary} does not exist (score the system first)", file=sys.stderr)
            return 1
        s = json.loads(summary.read_text())
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
            f"{'yes' if f['ssl'] else 'no'} | {s['utterances']} ({s.get('pesq_failures', 0)}) |")
    recipe = Path.cwd()
    md = [f"# {args.title}", ""]
    if args.note:
        md += [args.note, ""]
    md += ["| Model | PESQ | STOI | SI-SDR (dB) | WER (%) | Constr. | causal | parameters | algorithmic latency "
           "| SSL at inference | utterances (PESQ failures) |",
           "|---|---|---|---|---|---|---|---|---|---|---|", *rows, "",
           "Constr. = causal, < 4 M parameters and no SSL model at inference (paper, Table 1), each derived: "
           "causality by a perturbation check, parameters counted (enhancer only), SSL use from the loaded model. "
           "PESQ is wide band; WER by the offline Whisper tiny.en (seslib.asr), corpus level; the clean "
           "reference row is the ASR's own error on the clean speech.", "",
           "## Environment", "", *environment(recipe), ""]
    if args.teacher_dir and Path(args.teacher_dir).is_dir():
        md += teacher_section(Path(args.teacher_dir))
    times = stage_times(Path(args.stamp_dir))
    if times:
        md += ["## Stage wall times", "", "| stage | what | wall time | finished |", "|---|---|---|---|", *times, ""]
    atomic_write_text(args.out, "\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
