"""Pre-mixed corpora: noisy/clean pairs that come already mixed (VoiceBank-DEMAND, a
user's own recordings), with no separate noise and no mixing plan.

A recipe's data preparation (stage 0, ``local/data.sh``) writes, per set, either *sources*
(``speech.scp`` + ``noise.scp``, mixed by stage 1, :mod:`seslib.mixing`) or a *pair dir*:

================  ==============================================================
``wav.scp``       utt -> noisy recording (any sample rate; resampled to 16 kHz when read)
``spk1.scp``      utt -> clean speech, sample-aligned with the noisy recording
``utt2spk``       utt -> speaker (optional: each utterance its own speaker)
``text``          utt -> transcript (optional: WER is scored where it exists)
================  ==============================================================

Stage 1 turns a pair dir into a data dir of the recipe (:func:`import_pair_dir`): the files
copied, ``spk2utt`` and ``utt2num_samples`` (at 16 kHz) added, every pair checked (both
files decodable, same length), the result validated. Every later stage (training on static
pairs, enhancement, scoring, teacher features, the analysis) needs only ``wav.scp`` and
``spk1.scp``; dynamic mixing needs separate noise and says so.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from .data import DataDirError, read_kv, spk2utt_from_utt2spk, validate_data_dir, write_kv

log = logging.getLogger(__name__)

def is_pair_dir(d) -> bool:
    """Whether ``d`` holds ready pairs (``wav.scp`` + ``spk1.scp``) rather than sources."""
    d = Path(d)
    return (d / "wav.scp").is_file() and (d / "spk1.scp").is_file() and not (d / "speech.scp").is_file()


def corpus_sets(src, shape: str) -> list[str]:
    """The sets of a prepared corpus dir (``train``, ``valid``, ``test``, then ``test_*`` sorted;
    ``*_snr*`` (copies at other SNRs) are the recipe's own) that hold sources (``shape="mix"``) or pairs (``"pairs"``)."""
    src = Path(src)
    extra = sorted(p.name for p in src.glob("test_*") if p.is_dir() and "_snr" not in p.name)
    names = [n for n in ("train", "valid", "test", *extra) if (src / n).is_dir()]
    if shape == "mix":
        return [n for n in names if (src / n / "speech.scp").is_file()]
    return [n for n in names if is_pair_dir(src / n)]


def snr_copy(test_set: str, snr) -> str:
    """Name of ``test_set`` mixed again at ``snr`` dB: ``test`` -> ``test_snr<X>``, T -> ``T_snr<X>``."""
    return f"test_snr{snr}" if test_set == "test" else f"{test_set}_snr{snr}"


def snr_copies(src, of, snrs) -> list[tuple[str, str, str]]:
    """``(set, snr, copy name)`` for each set of ``of`` whose sources are in the corpus dir ``src``."""
    mixable = set(corpus_sets(src, "mix"))
    return [(t, x, snr_copy(t, x)) for t in of if t in mixable for x in snrs]


def test_sets(data="data", of=(), snrs=()) -> list[str]:
    """The mixed test sets of a recipe: ``test``, the other ``test_*`` sorted, then the SNR copies
    (:func:`snr_copy`) of the sets ``of`` at ``snrs`` that exist."""
    data = Path(data)
    others = sorted(p.name for p in data.glob("test_*") if "_snr" not in p.name and (p / "wav.scp").is_file())
    copies = [snr_copy(t, x) for t in of for x in snrs if (data / snr_copy(t, x) / "wav.scp").is_file()]
    return ["test"] + others + copies


def import_pair_dir(src, out) -> int:
    """Make the data dir ``out`` from the pair dir ``src``; returns the number of utterances.

    Written to a temporary dir beside ``out`` and renamed, so ``out`` is complete or absent.

    Raises:
        DataDirError: naming the file and utterance (a noisy recording without clean speech,
            a pair whose lengths differ, an unreadable file, a dir that does not validate).
    """
    from .audio import AudioError, audio_info, num_samples_at
    src, out = Path(src), Path(out)
    for name in ("wav.scp", "spk1.scp"):
        if not (src / name).is_file():
            raise DataDirError(f"{src / name} is missing: a pre-mixed set needs wav.scp (noisy) and spk1.scp (clean)")
    noisy, clean = read_kv(src / "wav.scp"), read_kv(src / "spk1.scp")
    if set(noisy) != set(clean):
        extra, missing = sorted(set(clean) - set(noisy))[:3], sorted(set(noisy) - set(clean))[:3]
        raise DataDirError(f"{src / 'spk1.scp'}: utterances differ from wav.scp (no noisy recording: {extra or '-'}; "
                           f"no clean speech: {missing or '-'})")
    utt2spk = read_kv(src / "utt2spk") if (src / "utt2spk").is_file() else {u: u for u in noisy}
    lengths = {}
    for utt in sorted(noisy):
        try:
            n_frames, n_sr = audio_info(noisy[utt], utt)
            c_frames, c_sr = audio_info(clean[utt], utt)
        except AudioError as exc:
            raise DataDirError(f"{src}: {exc}") from None
        n, c = num_samples_at(n_frames, n_sr), num_samples_at(c_frames, c_sr)
        if n != c:
            raise DataDirError(f"{src}: utterance '{utt}': noisy {noisy[utt]} has {n_frames} samples at {n_sr} Hz, "
                               f"clean {clean[utt]} {c_frames} at {c_sr} Hz: a pair must be sample-aligned")
        lengths[utt] = str(min(n, c))
    if out.is_symlink():
        raise DataDirError(f"{out} is a link (to {out.resolve()}): not written through; remove the link first")
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write_kv(tmp / "wav.scp", noisy)
    write_kv(tmp / "spk1.scp", clean)
    write_kv(tmp / "utt2spk", utt2spk)
    write_kv(tmp / "spk2utt", spk2utt_from_utt2spk(utt2spk))
    write_kv(tmp / "utt2num_samples", lengths)
    if (src / "text").is_file():
        shutil.copyfile(src / "text", tmp / "text")
    problems = validate_data_dir(tmp, "exists", ("spk1.scp",))
    if problems:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataDirError(f"{src} does not make a valid data dir: " + "; ".join(problems[:5]))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    log.info("%s: %d pre-mixed utterances from %s", out, len(noisy), src)
    return len(noisy)


__all__ = ["is_pair_dir", "import_pair_dir", "corpus_sets"]
