"""A second, independent offline recogniser: CMU PocketSphinx (PyPI ``pocketsphinx``, with its
bundled en-us acoustic model, language model, CMU dictionary and phone language model).

Why a second one: when the teacher is the offline Whisper's own encoder, Whisper's WER is
partly circular (output distillation optimises exactly the features Whisper reads). Sphinx
shares nothing with the teacher: GMM-HMM acoustic model, MFCC front end, n-gram LM.

It also gives a phone error rate (PER): allphone decoding with the phone LM against the
reference text's phones (first pronunciation of each word in the CMU dictionary, stress
removed; words missing from the dictionary are left out of the reference and counted).

Input level: the float waveform is scaled to a peak of 0.9 before 16-bit conversion (an
enhanced output may exceed full scale; Sphinx normalises cepstral means itself).
"""
from __future__ import annotations

import os
import re

import numpy as np

from .asr import normalize_text

FILLERS = {"SIL", "+NSN+", "+SPN+", "+BREATH+", "+COUGH+", "+NOISE+", "+UM+", "+UH+", "+SMACK+"}


def _model_dir() -> str:
    try:
        from pocketsphinx import get_model_path
    except ImportError as exc:
        raise RuntimeError("the second recogniser needs the PyPI package pocketsphinx "
                           "(tools/install.sh installs it)") from exc
    return os.path.join(get_model_path(), "en-us")


def load_lexicon(path: str | None = None) -> dict[str, list[str]]:
    """Word -> phones (first pronunciation, stress digits removed) of the CMU dictionary."""
    lex = {}
    with open(path or os.path.join(_model_dir(), "cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, *phones = line.split()
            if "(" not in word and word not in lex:
                lex[word] = [re.sub(r"\d", "", p) for p in phones]
    return lex


def reference_phones(text: str, lexicon: dict) -> tuple[list[str], int]:
    """(phones of the normalised text, number of words not in the lexicon)."""
    phones, oov = [], 0
    for w in normalize_text(text).split():
        if w in lexicon:
            phones += lexicon[w]
        else:
            oov += 1
    return phones, oov


class SphinxRecognizer:
    """Words and phones of a 16 kHz float waveform ``[N]`` by PocketSphinx."""

    def __init__(self):
        from pocketsphinx import Decoder
        d = _model_dir()
        self.words = Decoder(samprate=16000, loglevel="FATAL")
        self.phones = Decoder(samprate=16000, allphone=os.path.join(d, "en-us-phone.lm.bin"), lw=2.0,
                              beam=1e-20, pbeam=1e-20, loglevel="FATAL")
        self.lexicon = load_lexicon()

    @staticmethod
    def _run(dec, wav: np.ndarray) -> None:
        peak = float(np.max(np.abs(wav))) if len(wav) else 0.0
        x = wav * (0.9 / peak) if peak > 0 else wav
        dec.start_utt()
        dec.process_raw((x * 32767).astype(np.int16).tobytes(), full_utt=True)
        dec.end_utt()

    def transcribe(self, wav: np.ndarray) -> str:
        self._run(self.words, wav)
        h = self.words.hyp()
        return h.hypstr if h is not None else ""

    def phone_sequence(self, wav: np.ndarray) -> list[str]:
        self._run(self.phones, wav)
        return [s.word for s in self.phones.seg() if s.word not in FILLERS]


def phone_errors(ref: list[str], hyp: list[str]) -> tuple[int, int]:
    """(edit operations, reference phones) between two phone sequences, via jiwer."""
    import jiwer
    if not ref:
        return len(hyp), 0
    out = jiwer.process_words(" ".join(ref), " ".join(hyp) if hyp else "")
    return out.substitutions + out.deletions + out.insertions, len(ref)
