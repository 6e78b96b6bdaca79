"""WER and phone error rate of speech decoded from teacher embeddings, against the decoder's
training steps (seslib.analysis.decoder_curve; paper, Sec. 3.3 and Table 2).

  python -m seslib.bin.decoder_curve --snapshots exp/pretrain_dec_teacher/snapshots \\
      --encoder exp/pretrain_enc_l1/best.pt --data-dir data/test --utts 40 \\
      --out exp/pretrain_dec_teacher/curve_test

For every ``step<N>.pt`` of ``--snapshots`` (a decoder trained with ``train.keep_every``):
reading (ii), the noisy speech of the first ``--utts`` utterances of ``--data-dir`` through the
``--encoder``'s encoder and P and the snapshot's M and decoder; reading (i), their clean speech
resynthesised from the teacher's embeddings. Whisper WER and PocketSphinx phone error rate of
each. Writes OUT/step<N>.json per snapshot (atomically; a rerun skips the snapshots done),
OUT/curve.json (all points) and OUT/curve.png.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .. import audio, logutil
from ..data import DataDirError, read_kv
from ..fileutil import atomic_write_text

log = logging.getLogger("seslib.decoder_curve")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.decoder_curve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snapshots", required=True, help="dir of step<N>.pt snapshots of a decoder of teacher embeddings")
    p.add_argument("--encoder", default=None, help="encoder pre-training checkpoint for reading (ii) (none: (i) only)")
    p.add_argument("--data-dir", required=True, help="data dir with wav.scp, spk1.scp and text")
    p.add_argument("--utts", type=int, default=40, help="utterances scored per snapshot, the first by key (default 40)")
    p.add_argument("--out", required=True, help="output dir")
    p.add_argument("--asr-model", default=None, help="CTranslate2 Whisper dir (default: the bundled tiny.en)")
    args = p.parse_args(argv)
    logutil.setup()
    from ..analysis import decoder_curve as dc
    try:
        snaps = dc.snapshots(args.snapshots)
        if not snaps:
            raise FileNotFoundError(f"{args.snapshots}: no step<N>.pt snapshots (train with train.keep_every)")
        if args.utts < 1:
            raise ValueError(f"--utts must be at least 1, not {args.utts}")
        d = Path(args.data_dir)
        wav, spk1 = read_kv(d / "wav.scp"), read_kv(d / "spk1.scp")
        if not (d / "text").is_file():
            raise DataDirError(f"{d}: no text (the curve needs transcripts)")
        text = read_kv(d / "text", allow_empty_value=True)
        utts = sorted(set(wav) & set(spk1) & set(text))[: args.utts]
        if not utts:
            raise DataDirError(f"{d}: no utterance has audio, clean speech and a transcript")
        noisy = {u: audio.read_audio(wav[u], utt=u) for u in utts}
        clean = {u: audio.read_audio(spk1[u], utt=u) for u in utts}
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        todo = [(s, f) for s, f in snaps if not (out / f"step{s}.json").is_file()]
        if todo:
            from ..checkpoint import read_checkpoint
            from ..teacher import Teacher
            teacher = Teacher(read_checkpoint(todo[0][1])["config"]["teacher"]["spec"], layers="all")
            scorer = dc.Scorer(args.asr_model)
            for i, (step, f) in enumerate(todo, 1):
                pt = dc.point(dc.models(f, args.encoder, teacher), noisy, clean, text, scorer)
                atomic_write_text(out / f"step{step}.json", json.dumps(pt, indent=1))
                log.info("step %d (%d/%d): %s", step, i, len(todo),
                         "; ".join(f"({r}) WER {v['wer']:.1f}% PER {v['per']:.1f}%" for r, v in pt.items()))
        curve = dc.read_curve(out)
        meta = {"snapshots": str(args.snapshots), "encoder": args.encoder, "data_dir": str(d), "utterances": utts}
        atomic_write_text(out / "curve.json", json.dumps({"meta": meta, "points": curve}, indent=1))
        dc.plot({Path(args.snapshots).parent.name: curve}, out / "curve.png")
    except (audio.AudioError, DataDirError, FileNotFoundError, ValueError, KeyError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
