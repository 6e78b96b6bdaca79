"""Save a hub teacher to a folder, for machines without internet (cluster compute nodes).

  python -m seslib.bin.save_teacher facebook/wav2vec2-base teachers/wav2vec2-base   # where a hub is reachable
  ./run.sh --corpus dns --teacher teachers/wav2vec2-base                             # anywhere after that

Loads the model (Wav2Vec2, HuBERT, WavLM, Data2VecAudio or Whisper; seslib.teacher) and its
feature-extractor config from ``SOURCE`` (a hub id, or a ``save_pretrained`` dir), writes them
with ``save_pretrained`` to a temporary folder beside ``OUT``, renames it to ``OUT`` (a folder that
exists is refused), and checks that ``--teacher OUT`` gives the same embeddings as ``SOURCE`` on a
second of noise. The input normalisation travels with it: ``facebook/wav2vec2-base``, which
seslib feeds raw waveforms whatever its hub config says (seslib.teacher.ssl.RAW_INPUT), is saved
with ``do_normalize: false``, so the folder is fed what the hub id is.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .. import logutil


def save(source: str, out: Path) -> None:
    """Write ``source`` (model and feature-extractor config) to ``out`` (see the module docstring)."""
    from transformers import AutoConfig, AutoFeatureExtractor

    from ..teacher import ssl
    if out.exists():
        raise FileExistsError(f"{out} exists: give a new folder")
    config = AutoConfig.from_pretrained(source)
    if config.model_type == "whisper":
        from transformers import WhisperModel
        model = WhisperModel.from_pretrained(source)
    elif config.model_type in ssl.FAMILIES:
        model = ssl.model_class(config.model_type).from_pretrained(source)
    else:
        raise ValueError(f"{source}: model type '{config.model_type}' is not a teacher family "
                         f"({', '.join(sorted(ssl.FAMILIES))}, whisper)")
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        model.save_pretrained(tmp)
        try:
            fe = AutoFeatureExtractor.from_pretrained(source)
            if source in ssl.RAW_INPUT:
                fe.do_normalize = False
            fe.save_pretrained(tmp)
        except (OSError, ValueError):
            pass  # no feature-extractor config: the loader decides by the model's config, the same for both
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check(source: str, out: Path) -> float:
    """Largest difference between the last-layer embeddings of ``source`` and of ``out`` on 1 s of noise."""
    import torch

    from ..teacher import Teacher
    x = torch.randn(1, 16000, generator=torch.Generator().manual_seed(0)) * 0.1
    with torch.no_grad():
        return float((Teacher(source)(x) - Teacher(str(out))(x)).abs().max())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.save_teacher", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="hub id (e.g. facebook/wav2vec2-base) or a save_pretrained folder")
    p.add_argument("out", help="the folder to write (must not exist)")
    args = p.parse_args(argv)
    logutil.setup()
    out = Path(args.out)
    try:
        save(args.source, out)
        diff = check(args.source, out)
    except (OSError, ValueError) as exc:
        print(f"save_teacher: {args.source}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    if diff > 1e-5:
        print(f"save_teacher: {out} gives other embeddings than {args.source} (largest difference {diff:.2g})",
              file=sys.stderr)
        return 1
    print(f"save_teacher: {args.source} -> {out} (same embeddings, largest difference {diff:.1g}); "
          f"use --teacher {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
