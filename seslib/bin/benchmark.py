"""On-device figures of the GCRN and the peers, measured the same way in one run.

  python -m seslib.bin.benchmark [--model CKPT] [--seconds 10] [--out benchmark.md]

For each system: parameters (counted), multiply-accumulates per second of audio (GCRN:
analytic count by layer, checked against PyTorch's FLOP counter; peers: not counted),
streaming real-time factor on one CPU thread (processing time / audio duration, frame by
frame, as a device runs it: the GCRN through PyTorch's GCRNStreamer and as the exported
ONNX streaming step (seslib.export) in onnxruntime, both in 20 ms hops; the peers through
their C libraries in their 10 ms frames), and algorithmic latency (GCRN: the
largest wait, in samples, between an input sample's arrival and its output, measured on
the streamer; peers: the output delay measured by cross-correlation).

The ONNX step's time is also split by part of the network (onnxruntime's node profile:
DFT, encoder, LSTM, decoders, output layers and inverse DFT), beside each part's MACs.

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


def onnx_rtf(model: GCRN, x: np.ndarray, tmpdir: str, profile: bool = True) -> tuple[float, dict]:
    """Real-time factor of the exported streaming step in onnxruntime (1 thread), and the
    share of node time by part of the network (from a second, profiled pass)."""
    import json
    from pathlib import Path

    from ..export import OnnxStep, export_onnx, run_steps
    path = Path(tmpdir) / "gcrn.onnx"
    export_onnx(model, path)
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.benchmark", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="GCRN checkpoint (default: an untrained GCRN(); timing does not depend on weights)")
    p.add_argument("--seconds", type=float, default=10.0, help="audio length for the real-time factor")
    p.add_argument("--out", help="also write the markdown table here")
    args = p.parse_args(argv)
    logutil.setup()
    torch.set_num_threads(1)
    if args.model:
        from ..checkpoint import load_model
        model = load_model(args.model)
    else:
        model = GCRN().eval()
    x = _signal(args.seconds)
    macs = count_macs_per_second(model)
    latency = f"{1000 * gcrn_latency(model) / 16000:.1f} ms"
    rows = [("GCRN (this recipe), PyTorch", f"{model.num_parameters() / 1e6:.2f} M",
             f"{macs['total'] / 1e6:.0f} M (without LSTM: {(macs['total'] - macs['lstm']) / 1e6:.1f} M; "
             f"PyTorch FLOP counter: {flop_counter_macs(model) / 1e6:.1f} M)",
             f"{gcrn_rtf(model, x):.3f}", latency)]
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        o_rtf, shares = onnx_rtf(model, x, tmp)
    rows.append(("GCRN (this recipe), ONNX step in onnxruntime", rows[0][1], "the same", f"{o_rtf:.3f}", latency))
    for name, label in (("rnnoise", "RNNoise"), ("dfn3", "DeepFilterNet3"), ("gtcrn", "GTCRN")):
        try:
            peer = peers.PEERS[name]()
        except (RuntimeError, OSError) as exc:
            rows.append((label, "–", "–", f"not available: {exc}", "–"))
            continue
        t0 = time.perf_counter()
        peer.enhance(x)
        rtf = (time.perf_counter() - t0) / args.seconds
        d = peers.measure_delay(peer)
        n = peer.parameters
        rows.append((label, f"{n / 1e6:.2f} M" if n else "–", "not counted", f"{rtf:.3f}",
                     f"{peers.algorithmic_latency_ms(peer, d):.1f} ms"))
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    md = ["| system | parameters | MACs per second of audio | real-time factor (1 thread, streaming) "
          "| algorithmic latency |", "|---|---|---|---|---|"]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += ["", f"{cpu}, 1 thread, {args.seconds:.0f} s of audio, torch {torch.__version__}. GCRN MACs by part: "
           + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in macs.items() if k not in ("total", "fft"))
           + ". PyTorch's FLOP counter does not count aten::lstm, so it is compared with the analytic count "
           "without the LSTM; FFTs are not counted. Peers' real-time factors "
           "include resampling 16 <-> 48 kHz.", "",
           "ONNX step, share of onnxruntime's node time by part (MACs per second of the part): "
           + ", ".join(f"{k} {100 * v:.0f} %" + (f" ({macs[k] / 1e6:.0f} M)" if k in macs else "")
                       for k, v in shares.items()) + "."]
    text = "\n".join(md)
    print(text)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
