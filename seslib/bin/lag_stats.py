"""Lag statistics of embeddings (paper, Sec. 3.4, Figs. 3 and 4): correlation and Euclidean
distance of every pair of frames 20, 60, 400, 1000 and 2000 ms apart, over a test set.

  python -m seslib.bin.lag_stats --data-dir data/test --out exp/analysis/lags \\
      --source teacher=whisper-tiny.en --source student=exp/student/best.pt \\
      --source base=gcrn:exp/base/best.pt --source distill_embed=gcrn:exp/distill_embed/best.pt

Each ``--source NAME=SPEC`` is

- a teacher spec (:mod:`seslib.teacher`: ``whisper-tiny.en``, a hub id or directory, a
  teacher-shaped student's checkpoint ``exp/student/best.pt``, ``random:<spec>``): its last
  layer on the *clean* speech (``spk1.scp``), as the paper analyses Wav2Vec2's embeddings of
  clean speech;
- ``gcrn:CKPT``: the bottleneck (grouped-LSTM output) of a trained GCRN on the *noisy*
  speech (``wav.scp``), its input at test time, mapped to the teacher's width by the
  checkpoint's projection P where it has one (the embedding distillation's ``proj``, an
  encoder pre-training's ``to_teacher``); a Base GCRN has none and is analysed as it is.

``--reference NAME`` (a teacher source) also measures how well every other source of the
same width matches it, frame by frame on the same speech: the mean L1 distance (over
frames and dimensions) and the mean cosine similarity (over frames), e.g. a distilled
student's match to its teacher on the test set (Sec. 3.5).

Writes OUT/lags.json (per source and lag: the number of pairs and the quartiles of the
correlation and of the distance; the match to the reference) and OUT/NAME.png (box plots
of both, as Figs. 3-4; whiskers at the 5th and 95th percentiles).
Every utterance's whole sequence is used; lags longer than an utterance contribute no
pairs from it. Outputs are written atomically.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .. import audio, logutil
from ..analysis.lags import LAGS_MS, lag_statistics, pool, quartiles
from ..data import DataDirError, read_kv
from ..fileutil import atomic_output, atomic_write_text

log = logging.getLogger("seslib.lag_stats")


class GCRNEmbedding:
    """``gcrn:CKPT``: the bottleneck of a trained GCRN, through its projection P where it has one."""

    input = "noisy"

    def __init__(self, path: str):
        import torch

        from ..checkpoint import gcrn_state
        from ..models import GCRN
        state, config = gcrn_state(path)
        self.model = GCRN(**config)
        self.model.load_state_dict(state)
        self.model.eval()
        mode = torch.load(path, map_location="cpu", weights_only=False)["mode"]
        self.proj = None
        if "proj.weight" in mode:  # embedding distillation's P
            w = mode["proj.weight"]
            self.proj = torch.nn.Linear(w.shape[1], w.shape[0])
            self.proj.load_state_dict({"weight": w, "bias": mode["proj.bias"]})
        elif self.model.to_teacher is not None:  # encoder pre-training's P
            self.proj = self.model.to_teacher
        self.projected = self.proj is not None
        self.dim = self.proj.out_features if self.proj is not None else self.model.embed_dim

    def to(self, device):
        self.model.to(device)
        if self.proj is not None:
            self.proj.to(device)
        return self

    def __call__(self, wav):
        e = self.model.encode(wav)
        return self.proj(e) if self.proj is not None else e


class TeacherEmbedding:
    """A teacher spec: the last layer on the clean speech."""

    input = "clean"
    projected = False

    def __init__(self, spec: str):
        from ..teacher import Teacher
        self.teacher = Teacher(spec)
        self.dim, self.name = self.teacher.dim, self.teacher.name

    def to(self, device):
        self.teacher.to(device)
        return self

    def __call__(self, wav):
        return self.teacher(wav)


def make_source(spec: str):
    return GCRNEmbedding(spec[len("gcrn:"):]) if spec.startswith("gcrn:") else TeacherEmbedding(spec)


def source_stats(source, scp: dict, utts, lags_ms, progress: bool, reference=None,
                 device=None) -> tuple[dict, dict | None]:
    """(pooled :func:`lag_statistics` of ``source`` over ``utts``, its match to ``reference``:
    ``{"l1", "cosine", "frames"}`` or None)."""
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm
    stats, l1, cos, frames = [], 0.0, 0.0, 0
    with torch.no_grad():
        for utt in tqdm(utts, desc="embeddings", disable=not progress, mininterval=5):
            x = torch.from_numpy(audio.read_audio(scp[utt], utt=utt))[None].to(device or "cpu")
            e = source(x)[0].float().cpu()
            stats.append(lag_statistics(e, lags_ms))
            if reference is not None:
                r = reference(x)[0].float().cpu()
                l1 += (e - r).abs().mean(dim=-1).sum().item()
                cos += F.cosine_similarity(e, r, dim=-1).sum().item()
                frames += len(e)
    match = {"l1": l1 / frames, "cosine": cos / frames, "frames": frames} if frames else None
    return pool(stats), match


def box_plot(pooled: dict, title: str, path: Path) -> None:
    """Two panels, correlation and Euclidean distance by lag (Figs. 3-4); written atomically."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lags = sorted(pooled)
    labels = [f"{ms} ms" if ms < 1000 else f"{ms / 1000:g} s" for ms in lags]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, key, name in zip(axes, ("corr", "dist"), ("(a) correlation", "(b) Euclidean distance")):
        data = [pooled[ms][key] if len(pooled[ms][key]) else [np.nan] for ms in lags]
        ax.boxplot(data, showfliers=False, whis=(5, 95))
        ax.set_xticks(range(1, len(lags) + 1), labels)
        ax.set_title(name, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylim(top=1.02)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.lag_stats", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", required=True, help="data dir: spk1.scp (clean) for teachers, wav.scp (noisy) for gcrn:")
    p.add_argument("--source", action="append", required=True, metavar="NAME=SPEC",
                   help="an embedding source (repeatable): NAME=teacher spec, or NAME=gcrn:CKPT")
    p.add_argument("--out", required=True, help="output dir (lags.json, NAME.png)")
    p.add_argument("--lags-ms", type=int, nargs="+", default=list(LAGS_MS),
                   help=f"lags in ms, multiples of 20 (default {' '.join(map(str, LAGS_MS))})")
    p.add_argument("--reference", help="a source (NAME) that the others of its width and input are compared with, "
                   "frame by frame (L1, cosine)")
    p.add_argument("--max-utts", type=int, default=0, help="use only the first N utterances (default 0: all)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default 0: torch's choice)")
    p.add_argument("--device", default="cpu", help="where the embeddings are computed: cpu (default), cuda, cuda:N or auto")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    logutil.setup()
    try:
        sources = []
        for s in args.source:
            name, sep, spec = s.partition("=")
            if not sep or not name or not spec or "/" in name:
                raise ValueError(f"--source {s!r}: expected NAME=SPEC (NAME without '/')")
            sources.append((name, spec))
        if len({n for n, _ in sources}) != len(sources):
            raise ValueError("--source: names must be unique")
        if args.reference and args.reference not in dict(sources):
            raise ValueError(f"--reference {args.reference}: not among the --source names")
        d = Path(args.data_dir)
        scps = {"clean": read_kv(d / "spk1.scp"), "noisy": read_kv(d / "wav.scp")}
        utts = sorted(scps["clean"])
        if args.max_utts:
            utts = utts[: args.max_utts]
        if args.threads:
            import torch
            torch.set_num_threads(args.threads)
        out, result = Path(args.out), {}
        from ..engine import resolve_device
        dev = resolve_device(args.device)
        ref = make_source(dict(sources)[args.reference]).to(dev) if args.reference else None
        for name, spec in sources:
            log.info("%s (%s): %d utterances", name, spec, len(utts))
            src = ref if name == args.reference else make_source(spec).to(dev)
            missing = [u for u in utts if u not in scps[src.input]]
            if missing:
                raise DataDirError(f"{d}: {len(missing)} utterances have no {src.input} audio (first: {missing[0]})")
            compare = ref is not None and name != args.reference and src.dim == ref.dim and src.input == ref.input
            pooled, match = source_stats(src, scps[src.input], utts, args.lags_ms, not args.quiet,
                                         ref if compare else None, dev)
            result[name] = {"spec": spec, "input": src.input, "dim": src.dim, "projected": src.projected,
                            "utterances": len(utts),
                            "lags": {str(ms): {k: quartiles(v[k]) for k in ("corr", "dist")} for ms, v in pooled.items()}}
            if match:
                result[name]["match"] = {"reference": args.reference, **match}
            box_plot(pooled, f"{name}: {spec} ({src.input} speech, {len(utts)} utterances)", out / f"{name}.png")
        atomic_write_text(out / "lags.json", json.dumps(result, indent=1) + "\n")
        log.info("wrote %s", out / "lags.json")
    except (OSError, ValueError, DataDirError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
