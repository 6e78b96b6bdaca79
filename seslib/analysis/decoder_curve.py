"""Intelligibility of speech decoded from teacher embeddings against the decoder's training steps
(paper, Sec. 3.3: "when we train the decoder directly from SSL embeddings ... WER < 20 %").

Each snapshot of a decoder pre-trained on teacher embeddings (``snapshots/step<N>.pt``,
``train.keep_every``) is read two ways on a fixed set of utterances:

- reading (ii), the paper's Table 2 rows: the noisy input through a pre-trained encoder, its P,
  then the snapshot's M and decoder (the ``pipeline_*`` systems, assembled here per snapshot);
- reading (i), a diagnosis: the snapshot resynthesises the clean speech from the teacher's
  embeddings of it.

Each is transcribed by Whisper (corpus WER) and by PocketSphinx (phone error rate), with the
normalisation of :mod:`seslib.asr`.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch

READINGS = ("ii", "i")


def snapshots(snapshot_dir) -> list[tuple[int, Path]]:
    """``[(step, path)]`` of ``step<N>.pt`` files, by step."""
    out = []
    for p in Path(snapshot_dir).glob("step*.pt"):
        m = re.fullmatch(r"step(\d+)\.pt", p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def models(snapshot, encoder, teacher) -> dict:
    """``{"ii": pipeline GCRN, "i": TeacherResynth}`` of one snapshot, in eval mode.

    Args:
        snapshot: a training checkpoint of mode ``pretrain_dec_teacher``.
        encoder: a training checkpoint of an encoder pre-training (parts ``encoder``, ``lstm``,
            ``to_teacher``), or None for reading (i) only.
        teacher: the :class:`seslib.teacher.Teacher` (``layers="all"``) the decoder was trained on.
    """
    from ..checkpoint import gcrn_state, init_from
    from ..models import GCRN
    from ..models.resynth import TeacherResynth
    state, cfg = gcrn_state(snapshot)
    dec = GCRN(**cfg)
    dec.load_state_dict(state)
    out = {"i": TeacherResynth(dec, teacher).eval()}
    if encoder is not None:
        pipe = GCRN(**cfg)
        init_from(pipe, [{"checkpoint": str(encoder), "parts": ["encoder", "lstm", "to_teacher"]},
                         {"checkpoint": str(snapshot), "parts": ["from_teacher", "decoders", "out"]}])
        out["ii"] = pipe.eval()
    return out


class Scorer:
    """Whisper WER and PocketSphinx phone error rate of decoded utterances."""

    def __init__(self, asr_model=None):
        from ..asr import Recognizer
        from ..asr_sphinx import SphinxRecognizer
        self.rec, self.sphinx = Recognizer(asr_model, threads=1), SphinxRecognizer()

    def __call__(self, wavs: dict, text: dict) -> dict:
        from ..asr import word_errors
        from ..asr_sphinx import phone_errors, reference_phones
        we = ww = pe = pn = 0
        for utt, wav in wavs.items():
            e, n = word_errors(text[utt], self.rec.transcribe(wav))
            we, ww = we + e, ww + n
            ref, _ = reference_phones(text[utt], self.sphinx.lexicon)
            e, n = phone_errors(ref, self.sphinx.phone_sequence(wav))
            pe, pn = pe + e, pn + n
        return {"wer": 100.0 * we / max(ww, 1), "per": 100.0 * pe / max(pn, 1), "words": ww, "phones": pn,
                "utterances": len(wavs)}


@torch.no_grad()
def point(mods: dict, noisy: dict, clean: dict, text: dict, scorer) -> dict:
    """``{reading: scores}`` of one snapshot: reading (ii) enhances ``noisy``, (i) resynthesises ``clean``."""
    out = {}
    for reading, model in mods.items():
        src = noisy if reading == "ii" else clean
        wavs = {u: model(torch.from_numpy(x)[None])[0].numpy().astype(np.float32) for u, x in src.items()}
        out[reading] = scorer(wavs, text)
    return out


def plot(curve: dict, path) -> None:
    """WER and PER against steps, one line per decoder and reading."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for name, points in curve.items():
        steps = sorted(int(s) for s in points)
        for reading, style in (("ii", "-o"), ("i", "--x")):
            if any(reading in points[str(s)] for s in steps):
                xs = [s for s in steps if reading in points[str(s)]]
                for ax, key in zip(axes, ("wer", "per")):
                    ax.plot(xs, [points[str(s)][reading][key] for s in xs], style, ms=3,
                            label=f"{name}, reading ({reading})")
    for ax, key in zip(axes, ("Whisper WER (%)", "PocketSphinx PER (%)")):
        ax.set_xlabel("decoder training steps")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[0].axhline(20, color="grey", lw=0.8, ls=":")  # the paper's "< 20 %"
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def read_curve(out_dir) -> dict:
    """``{step: {reading: scores}}`` of the points written so far to ``out_dir``."""
    pts = {}
    for p in Path(out_dir).glob("step*.json"):
        pts[p.stem[4:]] = json.loads(p.read_text())
    return pts
