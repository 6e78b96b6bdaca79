"""Export a trained GCRN as an ONNX streaming step, for devices.

  python -m seslib.bin.export --model exp/base/best.pt exp/base/base.onnx

The ONNX graph is one 20 ms hop: 320 new samples in, 320 enhanced samples out, with the
previous hop, the overlap-add tail, the convolution caches and the LSTM states as explicit
inputs and outputs (seslib.export explains the protocol). Its metadata holds the sample rate,
hop, window, algorithmic latency, and every state's name and shape. After writing, the
exported model is checked: onnxruntime runs it hop by hop over ``--check-seconds`` of a test
signal and its output must equal the PyTorch model's offline output within ``--tolerance``
(the file is removed when it does not). Run it with
``python -m seslib.bin.enhance --engine onnx --model OUT.onnx IN OUT``.

``--quantize int8`` writes onnxruntime's dynamic int8 quantization of the same step instead
(seslib.export.quantize_int8): about a third of the size, and not equal to the float model, so
its check is the signal-to-difference ratio against the PyTorch output (``--min-snr``), and
its cost in PESQ / STOI / SI-SDR / DNSMOS is measured, not assumed (README, "On devices").

Checkpoints that cannot stream (the concat modes, which run a teacher on the whole
utterance; a decoder of teacher embeddings) are refused.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import logutil
from ..export import QUANTIZE

log = logging.getLogger("seslib.export")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="GCRN checkpoint (best.pt / last.pt) written by seslib.bin.train")
    p.add_argument("output", help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--check-seconds", type=float, default=3.0,
                   help="length of the signal of the equality check (default 3; 0: no check)")
    p.add_argument("--tolerance", type=float, default=1e-4,
                   help="largest allowed |ONNX - PyTorch offline| sample difference of the check (default 1e-4)")
    p.add_argument("--quantize", choices=QUANTIZE, default="none",
                   help="none (default): the float step, equal to PyTorch; int8: onnxruntime's dynamic int8 "
                        "quantization of it")
    p.add_argument("--min-snr", type=float, default=20.0,
                   help="with --quantize int8: smallest allowed ratio, in dB, of the PyTorch output's power to the "
                        "power of its difference from the int8 step's output on the check signal (default 20)")
    args = p.parse_args(argv)
    logutil.setup()
    import torch

    from ..checkpoint import load_model
    from ..export import OnnxStep, export_onnx, quantize_int8
    out = Path(args.output)
    if out.suffix != ".onnx":
        log.error("the output must be a .onnx file, not %s", out)
        return 1
    try:
        model = load_model(args.model)
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:  # nothing half-written at OUT
            part = Path(tmp) / out.name
            meta = export_onnx(model, part, opset=args.opset, source=str(args.model))
            if args.quantize == "int8":
                quantize_int8(part, Path(tmp) / "int8.onnx")
                (Path(tmp) / "int8.onnx").replace(part)
            if args.check_seconds > 0:
                rng = np.random.default_rng(0)
                x = (0.1 * rng.standard_normal(int(16000 * args.check_seconds))).astype(np.float32)
                with torch.no_grad():
                    ref = model(torch.from_numpy(x)[None])[0].numpy()
                y = OnnxStep(part).enhance(x)
                err = float(np.abs(y - ref).max())
                snr = float(10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / max(np.sum((y - ref) ** 2.0), 1e-30)))
                if args.quantize == "none" and not err <= args.tolerance:
                    log.error("%s: the exported step differs from the PyTorch model by %.3g (> %g); not written",
                              out, err, args.tolerance)
                    return 1
                if args.quantize == "int8" and not snr >= args.min_snr:
                    log.error("%s: the int8 step's output is %.1f dB above its difference from the PyTorch model "
                              "(< %g dB); not written", out, snr, args.min_snr)
                    return 1
                log.info("check: onnxruntime hop by hop vs PyTorch offline on %.1f s: max |difference| %.2e, "
                         "output / difference %.1f dB", args.check_seconds, err, snr)
            part.replace(out)
    except (FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    log.info("%s: %sstreaming step of %s (%d parameters), hop %s samples, latency %s ms, %d state tensors, %.1f MB",
             out, "int8 " if args.quantize == "int8" else "", args.model, model.num_parameters(), meta["hop"],
             meta["latency_ms"], len(json.loads(meta["states"])), out.stat().st_size / 1e6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
