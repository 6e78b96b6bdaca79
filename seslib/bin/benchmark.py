"""On-device figures of the GCRN and the peers, measured the same way in one run.

  python -m seslib.bin.benchmark [--model CKPT] [--seconds 10] [--out benchmark.md]
                                 [--quality EXP_DIR --quality-set test --plot quality.png]

For each system: parameters (counted), multiply-accumulates per second of audio, streaming
real-time factor on one CPU thread (processing time / audio duration, frame by frame, as a
device runs it: the GCRN through PyTorch's GCRNStreamer, and as the exported ONNX streaming
step (seslib.export) in onnxruntime, float and int8 (``--quantize int8``), all in 20 ms hops;
RNNoise and DeepFilterNet3 through their C libraries in 10 ms frames; GTCRN's ONNX step in
16 ms hops), and algorithmic latency (the longest an input sample waits for its output: the
GCRN's measured on its streamer; a peer's, its frame plus its output delay measured by
cross-correlation).

MACs: the GCRN's analytic count by layer, checked against PyTorch's FLOP counter; every ONNX
graph (the GCRN's exported step, GTCRN's step, DeepFilterNet3's three graphs) counted by
onnx-tool from the graph itself, per call times calls per second (onnx-tool counts
element-wise operations too, so its figure sits above a count of products alone). RNNoise's
compiled network is not counted.

The ONNX step's time is also split by part of the network (onnxruntime's node profile:
DFT, encoder, LSTM, decoders, output layers and inverse DFT), beside each part's MACs.

``--quality EXP_DIR`` adds each system's PESQ on ``--quality-set`` from the recipe's score
summaries (``EXP_DIR/<row>/score_<set>/summary.json``: base for the GCRN, peer_<name> for the
peers, ``--int8-scores`` for the int8 step when given) and ``--plot`` draws PESQ against MACs
per second and against the real-time factor, with the published figures of GTCRN and
FastEnhancer-B (VoiceBank-DEMAND PESQ, their authors' MACs) marked as published, not measured.

A benchmark, not a test: it asserts nothing and its timings depend on the machine.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
import torch

from .. import logutil, peers, stft
from ..fileutil import atomic_write_text
from ..models import GCRN, GCRNStreamer
from ..models.gcrn import count_macs_per_second


def _signal(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    n = int(seconds * 16000)
    t = np.arange(n) / 16000
    return (0.05 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
            + 0.02 * rng.standard_normal(n)).astype(np.float32)


def flop_counter_macs(model: GCRN) -> float:
    """MACs per second of audio that torch.utils.flop_counter finds (FLOPs / 2) in the
    offline forward of 1 s. It counts convolutions and linear layers, not ``aten::lstm``."""
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.randn(1, 16000 + stft.WIN - stft.HOP)  # 50 frames
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(x)
    frames = stft.num_frames(stft.padded_length(x.shape[1]))
    return fc.get_total_flops() / 2 / frames * (16000 / stft.HOP)


def gcrn_latency(model: GCRN, n: int = 3200) -> int:
    """Largest number of samples an input sample waits before its output is emitted."""
    s = GCRNStreamer(model)
    emitted, worst = 0, 0
    x = _signal(n / 16000)
    for i in range(n):
        out = s.push(torch.from_numpy(x[i:i + 1]))
        if len(out):
            # samples [emitted, emitted + len(out)) leave now, after input sample i arrived
            worst = max(worst, i - emitted)
            emitted += len(out)
    return worst


def gcrn_rtf(model: GCRN, x: np.ndarray) -> float:
    s = GCRNStreamer(model)
    t = torch.from_numpy(x)
    t0 = time.perf_counter()
    for i in range(0, len(t), stft.HOP):
        s.push(t[i:i + stft.HOP])
    s.flush()
    return (time.perf_counter() - t0) / (len(x) / 16000)


def onnx_macs(model, calls_per_second: float, feed: dict | None = None) -> float:
    """MACs per second of audio of an ONNX graph (a path or a ModelProto) that is called
    ``calls_per_second`` times a second, counted by onnx-tool; ``feed``: input arrays that fix
    its dynamic dimensions (default: every dynamic dimension 1)."""
    import contextlib
    import io

    import onnx
    import onnx_tool
    proto = onnx.load(str(model)) if not isinstance(model, onnx.ModelProto) else model
    if feed is None:
        feed = {i.name: np.zeros([d.dim_value or 1 for d in i.type.tensor_type.shape.dim],
                                 dtype=np.float32) for i in proto.graph.input}
    m = onnx_tool.Model(proto)
    with contextlib.redirect_stdout(io.StringIO()):  # (it prints its progress)
        m.graph.shape_infer(feed)
        m.graph.profile()
    return float(m.graph.macs[0]) * calls_per_second


def dfn3_macs(peer) -> float:
    """MACs per second of DeepFilterNet3's three graphs (encoder, ERB decoder, DF decoder), each
    given one second of frames at once (100 frames of 10 ms)."""
    import tarfile

    import onnx
    total = 0.0
    frames = round(1000 / peer.frame_ms)
    with tarfile.open(peer.model_archive) as tar:
        for member in tar.getmembers():
            if member.name.endswith(".onnx"):
                proto = onnx.load_model_from_string(tar.extractfile(member).read())
                feed = {i.name: np.zeros([d.dim_value or frames for d in i.type.tensor_type.shape.dim],
                                         dtype=np.float32) for i in proto.graph.input}
                total += onnx_macs(proto, 1.0, feed)
    return total


def onnx_rtf(path, x: np.ndarray, tmpdir: str, profile: bool = True) -> tuple[float, dict]:
    """Real-time factor of an exported streaming step (``path``) in onnxruntime (1 thread),
    and the share of node time by part of the network (from a second, profiled pass)."""
    import json
    from pathlib import Path

    from ..export import OnnxStep, run_steps
    step = OnnxStep(path)
    run_steps(step, x[:16000], step.shapes)  # warm up
    t0 = time.perf_counter()
    run_steps(step, x, step.shapes)
    rtf = (time.perf_counter() - t0) / (len(x) / 16000)
    shares = {}
    if profile:
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tmpdir) / "prof")
        step.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        run_steps(step, x, step.shapes)
        events = json.loads(Path(step.session.end_profiling()).read_text())
        for e in events:
            if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
                continue
            shares[_part(e["name"])] = shares.get(_part(e["name"]), 0) + e["dur"]
        total = sum(shares.values()) or 1
        shares = {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}
    return rtf, shares


def _part(node: str) -> str:
    """Part of the GCRN an exported node belongs to, from its scope name."""
    for key, part in (("/out.", "output_linear"), ("/encoder/", "encoder"), ("/lstm/", "lstm"),
                      ("/decoders/", "decoders")):
        if key in node:
            return part
    return "dft, windows, state copies"


#: (label, MACs per second, VoiceBank-DEMAND PESQ, parameters) as their authors report them, never measured here.
#: GTCRN, and DeepFilterNet (v1) and RNNoise as compared there: Table 1 of the GTCRN README (Rong et al.,
#: ICASSP 2024; the paper's 23.7 K / 39.6 M leave out the ERB module); FastEnhancer-B: its authors' table.
PUBLISHED = (("GTCRN (published)", 39.6e6, 2.87, "23.7 K"),
             ("FastEnhancer-B (published)", 262e6, 3.13, "92 K"),
             ("DeepFilterNet (published)", 0.35e9, 2.81, "1.80 M"),
             ("RNNoise (published)", 0.04e9, 2.29, "0.06 M"))


def _row(label, params, macs, rtf, latency, key):
    return {"label": label, "params": params, "macs": macs, "rtf": rtf, "latency": latency, "key": key}


def measure(model, x: np.ndarray, tmp: str) -> tuple[list[dict], dict, dict]:
    """The rows of the table (one per system), the GCRN's analytic MACs by part, and the float
    ONNX step's node-time shares."""
    from pathlib import Path

    from ..export import export_onnx, quantize_int8
    seconds = len(x) / 16000
    macs = count_macs_per_second(model)
    latency = 1000 * gcrn_latency(model) / 16000
    params = model.num_parameters()
    rows = [_row("GCRN (this recipe), PyTorch", params, macs["total"], gcrn_rtf(model, x), latency, "base")]
    f32, i8 = Path(tmp) / "gcrn.onnx", Path(tmp) / "gcrn_int8.onnx"
    export_onnx(model, f32)
    quantize_int8(f32, i8)
    o_rtf, shares = onnx_rtf(f32, x, tmp)
    onnx_count = onnx_macs(f32, 16000 / stft.HOP)
    rows.append(_row("GCRN, ONNX step (float)", params, onnx_count, o_rtf, latency, "base"))
    # (onnx-tool cannot read the quantized operators: the same products, in 8-bit integers)
    rows.append(_row("GCRN, ONNX step (int8)", params, onnx_count, onnx_rtf(i8, x, tmp, False)[0], latency, "int8"))
    for name, label in (("rnnoise", "RNNoise"), ("dfn3", "DeepFilterNet3"), ("gtcrn", "GTCRN")):
        try:
            peer = peers.PEERS[name]()
        except (RuntimeError, OSError) as exc:
            rows.append(_row(f"{label} (not available: {exc})", None, None, None, None, f"peer_{name}"))
            continue
        t0 = time.perf_counter()
        peer.enhance(x)
        rtf = (time.perf_counter() - t0) / seconds
        count = {"dfn3": lambda: dfn3_macs(peer),
                 "gtcrn": lambda: onnx_macs(peer.model_path, 1000 / peer.frame_ms)}.get(name, lambda: None)()
        rows.append(_row(label, peer.parameters, count, rtf, peers.algorithmic_latency_ms(peer, peers.measure_delay(peer)),
                         f"peer_{name}"))
    return rows, macs, {"shares": shares, "onnx_count": onnx_count}


def _quality(rows, exp_dir, test_set: str, int8_scores) -> None:
    """Adds ``pesq`` to each row from the recipe's score summaries (missing ones: None)."""
    import json
    from pathlib import Path
    for r in rows:
        if r["key"] == "int8":
            f = Path(int8_scores) / "summary.json" if int8_scores else None
        else:
            f = Path(exp_dir) / r["key"] / f"score_{test_set}" / "summary.json"
        r["pesq"] = json.loads(f.read_text())["pesq"] if f is not None and f.is_file() else None


def plot(rows, path, test_set: str) -> None:
    """PESQ against MACs per second (log) and against the real-time factor, as a small PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=90)
    for r in rows:
        if r.get("pesq") is None:
            continue
        if r["macs"]:
            a.scatter(r["macs"] / 1e6, r["pesq"], color="C0")
            a.annotate(r["label"].split(" (")[0].replace("GCRN, ONNX step", "GCRN ONNX"), (r["macs"] / 1e6, r["pesq"]),
                       fontsize=7, xytext=(3, 3), textcoords="offset points")
        b.scatter(r["rtf"], r["pesq"], color="C0")
        b.annotate(r["label"].replace("GCRN (this recipe), ", "GCRN ").replace("GCRN, ONNX step ", "GCRN ONNX "),
                   (r["rtf"], r["pesq"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    for label, m, q, _ in PUBLISHED:
        a.scatter(m / 1e6, q, marker="x", color="C3")
        a.annotate(label, (m / 1e6, q), fontsize=7, color="C3", xytext=(3, -9), textcoords="offset points")
    a.set_xscale("log")
    a.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    a.set_xlabel("M MACs per second of audio")
    a.set_ylabel("PESQ")
    a.set_title(f"measured: {test_set} (blue); published: VoiceBank-DEMAND (red x)", fontsize=8)
    b.set_xlabel("real-time factor, 1 thread, streaming")
    b.set_title(f"measured here, PESQ on {test_set}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.benchmark", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="GCRN checkpoint (default: an untrained GCRN(); timing does not depend on weights)")
    p.add_argument("--seconds", type=float, default=10.0, help="audio length for the real-time factor")
    p.add_argument("--out", help="also write the markdown table here")
    p.add_argument("--quality", help="a recipe's exp dir: add each system's PESQ from its score summaries")
    p.add_argument("--quality-set", default="test", help="the test set of --quality (default test)")
    p.add_argument("--int8-scores", help="score dir (seslib.bin.score --out) of the int8 step's outputs on that set")
    p.add_argument("--plot", help="with --quality: write the PESQ / MACs / RTF plot here (PNG)")
    args = p.parse_args(argv)
    logutil.setup()
    if args.plot and not args.quality:
        p.error("--plot needs --quality")
    torch.set_num_threads(1)
    if args.model:
        from ..checkpoint import load_model
        model = load_model(args.model)
    else:
        model = GCRN().eval()
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        rows, macs, extra = measure(model, _signal(args.seconds), tmp)
    if args.quality:
        _quality(rows, args.quality, args.quality_set, args.int8_scores)
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass

    def cell(v, f):
        return "–" if v is None else f(v)
    md = ["| system | parameters | MACs per second of audio | real-time factor (1 thread, streaming) "
          "| algorithmic latency |" + (f" PESQ ({args.quality_set}) |" if args.quality else ""),
          "|---|---|---|---|---|" + ("---|" if args.quality else "")]
    for r in rows:
        md.append(f"| {r['label']} | {cell(r['params'], lambda n: f'{n / 1e6:.2f} M' if n >= 1e5 else f'{n / 1e3:.1f} K')} | "
                  f"{cell(r['macs'], lambda m: f'{m / 1e6:.0f} M')} | {cell(r['rtf'], lambda v: f'{v:.3f}')} | "
                  f"{cell(r['latency'], lambda v: f'{v:.1f} ms')} |"
                  + (f" {cell(r.get('pesq'), lambda v: f'{v:.2f}')} |" if args.quality else ""))
    md += ["", f"{cpu}, 1 thread, {args.seconds:.0f} s of audio, torch {torch.__version__}. MACs: the GCRN's analytic "
           "count (by part: " + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in macs.items() if k not in ("total", "fft"))
           + f"; PyTorch's FLOP counter, which skips aten::lstm: {flop_counter_macs(model) / 1e6:.1f} M without the LSTM); "
           "the ONNX graphs (the GCRN's steps, GTCRN, DeepFilterNet3) counted by onnx-tool, element-wise operations "
           "included; RNNoise not counted; FFTs not counted. The 48 kHz peers' real-time factors include resampling "
           "16 <-> 48 kHz. Latency: the longest an input sample waits for its output (GCRN: measured on its streamer; "
           "peers: one frame plus the measured output delay).", "",
           "Published, not measured here: " + "; ".join(f"{label[:-12]}: {q:.2f} PESQ on VoiceBank-DEMAND, {m / 1e6:.1f} M "
                                                       f"MACs/s, {n} parameters" for label, m, q, n in PUBLISHED) + ".", "",
           "ONNX step (float), share of onnxruntime's node time by part (MACs per second of the part): "
           + ", ".join(f"{k} {100 * v:.0f} %" + (f" ({macs[k] / 1e6:.0f} M)" if k in macs else "")
                       for k, v in extra["shares"].items()) + "."]
    text = "\n".join(md)
    print(text)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    if args.plot:
        plot(rows, args.plot, args.quality_set)
    return 0


if __name__ == "__main__":
    sys.exit(main())
