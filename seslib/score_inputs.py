"""What one scoring run reads (``seslib.bin.score``): the utterances, their audio, references and
transcripts, and the content hash that identifies them (seslib.provenance), so that a reader of
scores (the results stage) can tell whether they were made from the files that are there now."""
from __future__ import annotations

from pathlib import Path

from . import audio, provenance
from .data import DataDirError, read_kv


def hyp_scp(hyp: Path) -> dict:
    """``{key: audio path}`` of a wav.scp, a dir holding one, or a folder of audio files."""
    if hyp.is_dir() and not (hyp / "wav.scp").is_file():
        out = {}
        for f in audio.audio_files(hyp):
            key = f.relative_to(hyp).with_suffix("").as_posix()
            if key in out:
                raise DataDirError(f"{hyp}: {out[key]} and {f} would both be utterance '{key}'")
            out[key] = str(f)
        return out
    return read_kv(hyp / "wav.scp" if hyp.is_dir() else hyp)


class Inputs:
    """What one scoring run reads: the utterances, their audio, references and transcripts.

    Args:
        hyp: see :func:`hyp_scp`.
        ref_dir: reference data dir (``spk1.scp``, ``text``), or None to score without one.
        text: Kaldi text file for WER when there is no reference dir.
        asr: the recognisers wanted (dropped when there is no transcript).
    """

    def __init__(self, hyp: Path, ref_dir: Path | None, text: Path | None, asr):
        self.hyps = hyp_scp(hyp)
        self.clean = read_kv(ref_dir / "spk1.scp") if ref_dir is not None else None
        text_file = ref_dir / "text" if ref_dir is not None else text
        if text_file is not None and not text_file.is_file() and ref_dir is None:
            raise FileNotFoundError(f"--text {text_file} does not exist")
        self.asr = list(asr) if text_file is not None and text_file.is_file() else []
        self.text = read_kv(text_file, allow_empty_value=True) if self.asr else {}
        self.keys = sorted(self.clean if self.clean is not None else self.hyps)
        if not self.keys:
            where = ref_dir / "spk1.scp" if ref_dir is not None else hyp
            raise DataDirError(f"{where}: no utterances to score (an empty test set has no scores)")
        missing = sorted(set(self.keys) - set(self.hyps))
        if missing:
            raise DataDirError(f"{hyp}: no audio for {len(missing)} reference utterances (first: {missing[0]})")
        self.text_file = text_file if self.asr else None
        untranscribed = sorted(set(self.keys) - set(self.text)) if self.asr else []
        if untranscribed:
            raise DataDirError(f"{text_file}: no transcript of {len(untranscribed)} utterances "
                               f"(first: {untranscribed[0]})")


    def identity(self) -> str:
        """Content hash of what is scored: the hypotheses, references and transcripts of the keys."""
        parts = [provenance.files_identity({k: self.hyps[k] for k in self.keys})]
        if self.clean is not None:
            parts.append(provenance.files_identity({k: self.clean[k] for k in self.keys}))
        if self.text_file is not None:
            parts.append(provenance.file_sha256(self.text_file))
        return "+".join(parts)


def current_identity(read_from: dict) -> str:
    """:meth:`Inputs.identity` of the files a score dir's record says it read, as they are now."""
    ref, text = read_from.get("ref_dir"), read_from.get("text")
    return Inputs(Path(read_from["hyp"]), Path(ref) if ref else None, Path(text) if text else None,
                  read_from.get("asr") or []).identity()
