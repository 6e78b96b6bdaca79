"""Enhance audio with a trained checkpoint.

  python -m seslib.bin.enhance --model CKPT IN.wav OUT.wav        one file
  python -m seslib.bin.enhance --model CKPT IN_DIR OUT_DIR        every audio file below IN_DIR
  python -m seslib.bin.enhance --model CKPT DATA_DIR OUT_DIR      a data dir (has wav.scp):
        writes OUT_DIR/wavs/<utt>.wav and OUT_DIR/wav.scp (plus utt2spk, spk2utt, text,
        spk1.scp copied), in --nj parallel jobs through the job launcher

``--model peer:rnnoise``, ``peer:dfn3``, ``peer:noisereduce`` or ``peer:gtcrn`` runs an on-device peer
(seslib.peers) instead of a checkpoint, with its measured delay removed.

``--streaming`` runs the model frame by frame with carried state (what a device does);
it gives the same output as the default offline pass. ``--engine onnx --model M.onnx``
runs a streaming step exported by ``python -m seslib.bin.export`` with onnxruntime, hop by
hop (one thread per job), with the same output as the PyTorch model. Checkpoints of the ``concat``
modes load their teacher too (from the spec recorded in training, or
``--teacher``) and cannot stream. Outputs are 16 kHz float wavs, so
nothing is clipped.

A folder input is read for every format this machine's libsndfile decodes (``--help`` lists the
suffixes); two inputs that would give one output name (``a.wav`` and ``a.flac``) are refused before
anything runs. A file that cannot be read or enhanced is reported and the others are enhanced; the
run ends with the list of failures and exit status 1. An output that would hold NaN or infinite
samples is an error naming the file and the model; nothing is written for it.

Inputs are never written: an output that is an input file, or a folder that holds the inputs, is
refused. An output folder or data dir records what made it (``.made_by.json``: the model's content
hash, the input audio's content hash, the options; seslib.provenance). A rerun with the same model
on the same inputs resumes (finished outputs are skipped, so a killed run goes on where it
stopped); a run with another model, other inputs or other options is refused with one line, and
``--overwrite`` makes every output again.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

import numpy as np

from .. import audio, logutil, provenance
from ..data import DataDirError, merge_scp, read_kv, write_kv

log = logging.getLogger("seslib.enhance")


class PeerEnhancer:
    """A peer of seslib.peers with its delay measured once and removed from every output."""

    def __init__(self, name: str):
        from .. import peers
        if name not in peers.PEERS:
            raise ValueError(f"unknown peer '{name}'; known: {sorted(peers.PEERS)}")
        try:
            self.peer = peers.PEERS[name]()
        except (RuntimeError, OSError) as exc:
            raise RuntimeError(f"peer {name} is not available: {exc}") from None
        self.delay = peers.measure_delay(self.peer)
        log.info("peer %s: measured delay %d samples (%.1f ms), removed from its outputs",
                 name, self.delay, 1000 * self.delay / audio.SAMPLE_RATE)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from ..peers import compensate
        return compensate(self.peer.enhance(x), self.delay)


def load_enhancer(spec: str, streaming: bool = False, teacher: str | None = None, engine: str = "torch",
                  device: str = "cpu"):
    """A checkpoint path, or ``peer:NAME``; ``teacher`` overrides the teacher a
    ``concat`` checkpoint names; ``engine="onnx"``: an exported ``.onnx`` streaming step.
    Raises ValueError for ``streaming`` with a model that cannot stream (one that runs a
    teacher on the whole utterance), and for an onnx engine given a checkpoint."""
    if engine != "onnx" and str(spec).endswith(".onnx"):
        raise ValueError(f"{spec} is an exported ONNX model: add --engine onnx to run it")
    if engine == "onnx":
        if not str(spec).endswith(".onnx"):
            raise ValueError(f"--engine onnx runs an exported model, not {spec}: export it first with "
                             f"python -m seslib.bin.export --model {spec} OUT.onnx")
        if not Path(spec).is_file():
            raise FileNotFoundError(f"ONNX model {spec} does not exist")
        from ..export import OnnxStep
        return OnnxStep(spec)
    if spec.startswith("peer:"):
        return PeerEnhancer(spec[5:])
    from ..checkpoint import load_model
    from ..engine import resolve_device
    dev = resolve_device(device)
    if streaming and dev.type != "cpu":
        raise ValueError("--streaming runs frame by frame on the CPU (as on a device): drop --device or --streaming")
    model = load_model(spec, teacher=teacher).to(dev)
    if streaming and getattr(model, "teacher", None) is not None:
        raise ValueError(f"{spec}: this model runs its teacher on the whole utterance (a concat mode, or a "
                         "decoder of teacher embeddings), so it cannot stream; drop --streaming")
    return model


def enhance_array(model, x: np.ndarray, streaming: bool = False) -> np.ndarray:
    """Enhance one ``[N]`` float waveform; returns ``[N]`` float32."""
    if isinstance(model, PeerEnhancer):
        return model(x)
    if hasattr(model, "session"):  # seslib.export.OnnxStep
        return model.enhance(x)
    import torch

    from ..models import enhance_streaming
    from ..engine import module_device
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(module_device(model))
    with torch.no_grad():
        y = enhance_streaming(model, t) if streaming else model(t[None])[0]
    return y.cpu().numpy().astype(np.float32)


def _write(path, y) -> None:
    audio.write_audio(path, y, subtype="FLOAT")


def model_identity(spec: str) -> str:
    """What made an output: ``peer:NAME``, or the SHA-256 of the checkpoint or ONNX file."""
    if spec.startswith("peer:"):
        return spec
    if not Path(spec).is_file():
        raise FileNotFoundError(f"--model {spec} does not exist")
    return "sha256:" + provenance.file_sha256(spec)


def enhance_one(model, src, dst, streaming: bool, model_name: str, utt=None) -> None:
    """Enhance the file ``src`` into ``dst``; an output with NaN or infinite samples is an
    AudioError naming the file and the model (nothing is written then)."""
    y = enhance_array(model, audio.read_audio(src, utt=utt), streaming)
    if not np.all(np.isfinite(y)):
        raise audio.AudioError(f"{src}: the model {model_name} gave NaN or infinite samples (nothing written to {dst})")
    _write(dst, y)


def enhance_pairs(model, pairs, streaming: bool, desc: str, progress: bool = True, model_name: str = "",
                  reuse: bool = True, keep_going: bool = False) -> tuple[int, list[str]]:
    """Enhance ``(key, in_path, out_path)`` triples; returns (the number enhanced, the failures).

    ``reuse``: skip outputs that exist (a resumed run); ``keep_going``: a file that fails is
    reported (``"IN: why"``) and the others are enhanced, else the first failure raises."""
    from tqdm import tqdm
    todo = [p for p in pairs if not (reuse and Path(p[2]).is_file())]
    failures = []
    for key, src, dst in tqdm(todo, desc=desc, disable=not progress, mininterval=5, unit="utt"):
        try:
            enhance_one(model, src, dst, streaming, model_name, utt=key if key != src else None)
        except (audio.AudioError, RuntimeError, ValueError) as exc:
            if not keep_going:
                raise
            log.error("%s", exc)
            failures.append(str(exc))
    return len(todo) - len(failures), failures


def _data_dir_job(model, data_dir: Path, out: Path, job: int, nj: int, streaming: bool, progress: bool,
                  input_scp: str = "wav.scp", model_name: str = "") -> None:
    if not (data_dir / input_scp).is_file():
        raise DataDirError(f"{data_dir / input_scp} does not exist (--input-scp)")
    wav = read_kv(data_dir / input_scp)
    utts = sorted(wav)[job - 1::nj]
    pairs = [(u, wav[u], str((out / "wavs" / f"{u}.wav").resolve())) for u in utts]
    n, _ = enhance_pairs(model, pairs, streaming, f"enhance job {job}", progress, model_name)
    write_kv(out / "split" / f"wav.{job}.scp", {u: p for u, _, p in pairs})
    log.info("job %d/%d: enhanced %d of %d utterances (others were done)", job, nj, n, len(pairs))


def _refuse_writing_inputs(inputs, out: Path, folder: Path | None = None) -> None:
    """ValueError when ``out`` is one of the input files, or is (or lies in) the input folder."""
    if folder is not None and provenance.inside(out, folder):
        raise ValueError(f"output {out} is inside the input folder {folder}: its outputs would mix with (or "
                         "replace) the recordings; give an output folder elsewhere")
    real = {Path(p).resolve() for p in inputs}
    if out.resolve() in real:
        raise ValueError(f"output {out} is the input file itself: give another output path")


def _record(args, inputs: dict, data_dir: Path | None = None) -> dict:
    return {"tool": "enhance", "producer": model_identity(args.model), "inputs": provenance.files_identity(inputs),
            "options": {"streaming": args.streaming, "engine": args.engine, "teacher": args.teacher,
                        "input_scp": args.input_scp},
            "read_from": {"data_dir": str(data_dir) if data_dir else None, "input_scp": args.input_scp}}


def _folder_outputs(src: Path, dst: Path) -> list[tuple[str, str, str]]:
    """``(in, in, out)`` of every audio file below ``src``; ValueError naming two inputs that would
    give one output."""
    files = audio.audio_files(src)
    pairs, seen = [], {}
    for f in files:
        out = (dst / f.relative_to(src)).with_suffix(".wav")
        if out in seen:
            raise ValueError(f"{seen[out]} and {f} would both be written to {out}: rename one (nothing enhanced)")
        seen[out] = f
        pairs.append((str(f), str(f), str(out)))
    return pairs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.enhance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True,
                   help="checkpoint (best.pt / last.pt) written by seslib.bin.train, or peer:rnnoise|dfn3|noisereduce|gtcrn")
    p.add_argument("input", help="an audio file, a directory of audio files (" + " ".join(audio.AUDIO_EXT)
                   + ", read by libsndfile; outputs are .wav), or a data dir")
    p.add_argument("output", help="output wav file, or directory (for one input file: an existing directory, or a "
                                   "path ending in /, receives NAME.wav)")
    p.add_argument("--streaming", action="store_true", help="frame-by-frame processing with carried state")
    p.add_argument("--engine", choices=("torch", "onnx"), default="torch",
                   help="torch (default): the checkpoint in PyTorch; onnx: --model is a streaming step exported by "
                        "seslib.bin.export, run hop by hop with onnxruntime")
    p.add_argument("--teacher", help="for concat checkpoints: load the teacher from this spec (seslib.teacher) "
                                     "instead of the path recorded at training time")
    p.add_argument("--nj", type=int, default=1, help="parallel jobs for a data dir (default 1)")
    p.add_argument("--input-scp", default="wav.scp",
                   help="for a data dir: the scp to enhance (default wav.scp, the mixtures; spk1.scp feeds the clean "
                        "speech, e.g. to a decoder that resynthesises speech from the teacher's embeddings of it)")
    p.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)  # one job of --nj (internal)
    p.add_argument("--threads", type=int, default=0, help="torch threads per job (default: 1 when --nj > 1)")
    p.add_argument("--device", default="cpu",
                   help="where a checkpoint runs: cpu (default), cuda, cuda:N or auto (CUDA when present); "
                        "with --nj > 1 and cuda, job J runs on GPU (J - 1) mod the GPU count")
    p.add_argument("--overwrite", action="store_true",
                   help="an output folder or data dir made by another model, from other inputs or with other "
                        "options: make every output again (without it such a run is refused)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logutil.setup()
    import torch

    src, dst = Path(args.input), Path(args.output)
    if args.threads or args.nj > 1:
        torch.set_num_threads(args.threads or 1)
    try:
        if str(args.model).endswith(".onnx") and args.engine != "onnx":
            raise ValueError(f"{args.model} is an exported ONNX model: add --engine onnx to run it")
        if src.is_dir() and dst.is_file():
            raise ValueError(f"input {src} is a folder, so the output must be a folder, and {dst} is a file")
        if src.is_dir() and (src / "wav.scp").is_file():
            if not (src / args.input_scp).is_file():
                raise DataDirError(f"{src / args.input_scp} does not exist (--input-scp)")
            wav = read_kv(src / args.input_scp)
            if not wav:
                raise DataDirError(f"{src / args.input_scp}: no utterances to enhance")
            if not args.job:
                if provenance.inside(dst, src):
                    raise ValueError(f"output {dst} is inside the input data dir {src}: give another output dir")
                _refuse_writing_inputs(wav.values(), dst)
                if not provenance.claim(dst, _record(args, wav, src), args.overwrite):
                    for old in ("wavs", "split", "wav.scp"):  # --overwrite: another producer's outputs
                        _remove(dst / old)
            if args.nj > 1 and not args.job:
                from ..launcher import run_module_jobs
                opts = ["--model", args.model, str(src), str(dst), "--input-scp", args.input_scp] \
                    + (["--streaming"] if args.streaming else []) + (["--teacher", args.teacher] if args.teacher else []) \
                    + ["--engine", args.engine, "--device", args.device]
                if not run_module_jobs("seslib.bin.enhance", opts, args.nj, dst, "enhance"):
                    return 1
            else:
                from ..engine import job_device
                model = load_enhancer(args.model, args.streaming, args.teacher, args.engine,
                                      str(job_device(args.device, args.job or 1)))
                _data_dir_job(model, src, dst, args.job or 1, args.nj if args.job else 1, args.streaming,
                              not args.quiet, args.input_scp, args.model)
                if args.job:
                    return 0
            merge_scp(sorted(dst.glob("split/wav.*.scp")), dst / "wav.scp")
            for name in ("utt2spk", "spk2utt", "text", "spk1.scp", "utt2num_samples"):
                if (src / name).is_file():
                    shutil.copyfile(src / name, dst / name)
            log.info("%s: %d enhanced utterances", dst, len(read_kv(dst / "wav.scp")))
        elif src.is_dir():
            pairs = _folder_outputs(src, dst)
            _refuse_writing_inputs([a for _, a, _ in pairs], dst, folder=src)
            model = load_enhancer(args.model, args.streaming, args.teacher, args.engine, args.device)
            reuse = provenance.claim(dst, _record(args, {a: a for _, a, _ in pairs}), args.overwrite,
                                     existing=any(Path(o).is_file() for _, _, o in pairs))
            n, failures = enhance_pairs(model, pairs, args.streaming, "enhance", not args.quiet, args.model,
                                        reuse=reuse, keep_going=True)
            log.info("%s: enhanced %d of %d files into %s (others were done)", src, n, len(pairs), dst)
            if failures:
                log.error("%d of %d files failed (the others are in %s):\n  %s", len(failures), len(pairs), dst,
                          "\n  ".join(failures))
                return 1
        else:
            if not src.is_file():
                raise FileNotFoundError(f"input {src} does not exist")
            if dst.is_dir() or args.output.endswith("/"):  # into a directory, under the input's name
                dst = dst / src.with_suffix(".wav").name
            _refuse_writing_inputs([src], dst)
            model = load_enhancer(args.model, args.streaming, args.teacher, args.engine, args.device)
            enhance_one(model, src, dst, args.streaming, args.model)
            log.info("enhanced %s -> %s", src, dst)
    except (audio.AudioError, DataDirError, FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
        log.error("%s", exc)
        return 1
    return 0


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    elif p.exists() or p.is_symlink():
        p.unlink()


if __name__ == "__main__":
    sys.exit(main())
