"""Audio I/O, levels and SNR mixing.

Reading goes through soundfile, resampling through soxr. Every error names the
utterance (when the caller gives one) and the file.

Mono policy: the recipe works on single-channel audio. A multi-channel file is
down-mixed by averaging its channels (logged once per file); pass ``channel=k`` to
take one channel instead.

Mixing follows the idea of the DNS-Challenge synthesizer (Reddy et al., 2021): the noise is
scaled to the requested SNR, the mixture is normalised to a random target level, and
clipping protection scales clean, noise and mixture together. The SNR has two definitions
(:data:`SNR_DEFINITIONS`): ``global``, the power of the whole signals, as the synthesizer's
``snr_mixer`` (and the paper's noisy-input SI-SDR of -4.99 dB at -5 dB, Table 1, which a
whole-signal SNR gives); ``active``, each signal's power on its own active windows
(:func:`active_power`), as its ``segmental_snr_mixer``. Unlike that segmental mixer, which
scales the noise with RMS values measured *before* level normalisation and so realises a
different SNR than requested (a known upstream bug), :func:`mix_gains` computes the noise
gain from the very signals it mixes, so the realised SNR equals the requested one.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .fileutil import atomic_output

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
EPS = 1e-12
#: Largest absolute sample value a mixture may reach (clipping protection).
CLIP_LIMIT = 0.99


class AudioError(RuntimeError):
    """A file could not be used as audio; the message names the utterance and the file."""


def _where(path, utt) -> str:
    return f"utterance '{utt}' (file {path})" if utt is not None else f"file {path}"


#: file suffixes of the container formats libsndfile reads, by its format name (sf.available_formats())
_SUFFIXES = {"WAV": (".wav",), "WAVEX": (".wav",), "RF64": (".rf64",), "W64": (".w64",), "FLAC": (".flac",),
             "OGG": (".ogg", ".oga", ".opus"), "MP3": (".mp3",), "AIFF": (".aiff", ".aif", ".aifc"),
             "AU": (".au", ".snd"), "CAF": (".caf",), "NIST": (".nist", ".sph"), "VOC": (".voc",)}


def readable_suffixes() -> tuple[str, ...]:
    """The suffixes of the audio files a folder given as input is read for: every container
    format of :data:`_SUFFIXES` that this machine's libsndfile decodes (MP3 from libsndfile 1.1)."""
    formats = sf.available_formats()
    return tuple(sorted({x for name, sfx in _SUFFIXES.items() if name in formats for x in sfx}))


#: suffixes of the audio files that a folder given as input holds (what this libsndfile reads)
AUDIO_EXT = readable_suffixes()


def audio_files(folder) -> list[Path]:
    """The audio files (:data:`AUDIO_EXT`) below ``folder``, sorted; an error names the folder when none."""
    folder = Path(folder)
    files = sorted(f for f in folder.rglob("*") if f.suffix.lower() in AUDIO_EXT and f.is_file()
                   and not f.name.startswith("."))
    if not files:
        raise AudioError(f"no audio files ({', '.join(AUDIO_EXT)}) below {folder}")
    return files


def audio_info(path, utt=None) -> tuple[int, int]:
    """Number of frames and sample rate of an audio file, from its header.

    Raises:
        AudioError: when the file is missing or not decodable.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{_where(path, utt)}: file does not exist")
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises several types
        raise AudioError(f"{_where(path, utt)}: cannot decode audio ({exc})") from None
    return int(info.frames), int(info.samplerate)


_RESAMPLED: set = set()


def num_samples_at(frames: int, sr_in: int, sr_out: int = SAMPLE_RATE) -> int:
    """Length after resampling ``frames`` samples from ``sr_in`` to ``sr_out``, as soxr
    gives it: ``frames * sr_out / sr_in`` rounded half up (exact integer arithmetic)."""
    return (2 * frames * sr_out + sr_in) // (2 * sr_in)


def read_audio(path, sr: int = SAMPLE_RATE, utt=None, channel: int | None = None,
               start: int = 0, stop: int | None = None) -> np.ndarray:
    """Read a file as float32 mono at ``sr`` Hz.

    Args:
        path: audio file (any format libsndfile reads: wav, flac, ogg, ...).
        sr: wanted sample rate; other rates are resampled with soxr (logged).
        utt: utterance id, used only in error messages.
        channel: take this channel of a multi-channel file instead of the average.
        start, stop: sample range to return, counted at ``sr`` (after resampling).

    Returns:
        Waveform, shape ``[N]``, float32.

    Raises:
        AudioError: missing file, undecodable data, zero length, or NaN/inf samples.
    """
    path = Path(path)
    frames, file_sr = audio_info(path, utt)
    if frames == 0:
        raise AudioError(f"{_where(path, utt)}: audio has zero length")
    try:
        if file_sr == sr:
            x, _ = sf.read(str(path), dtype="float32", always_2d=True, start=start, stop=stop)
        else:
            x, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"{_where(path, utt)}: cannot decode audio ({exc})") from None
    if x.shape[0] == 0 and frames > 0 and start == 0:
        raise AudioError(f"{_where(path, utt)}: audio has zero length")
    if x.shape[1] > 1:
        if channel is None:
            log.info("%s: %d channels, averaged to mono", _where(path, utt), x.shape[1])
            x = x.mean(axis=1)
        else:
            if not 0 <= channel < x.shape[1]:
                raise AudioError(f"{_where(path, utt)}: has {x.shape[1]} channels, no channel {channel}")
            x = x[:, channel]
    else:
        x = x[:, 0]
    if file_sr != sr:
        if (file_sr, sr) not in _RESAMPLED:  # once per rate pair: a 48 kHz corpus is read thousands of times
            _RESAMPLED.add((file_sr, sr))
            log.info("%s: resampled %d Hz -> %d Hz with soxr (and every other file at %d Hz)",
                     _where(path, utt), file_sr, sr, file_sr)
        x = soxr.resample(x, file_sr, sr).astype(np.float32)
        x = x[start:stop]
    if not np.all(np.isfinite(x)):
        raise AudioError(f"{_where(path, utt)}: contains NaN or infinite samples")
    return np.ascontiguousarray(x, dtype=np.float32)


def write_audio(path, x: np.ndarray, sr: int = SAMPLE_RATE, subtype: str = "PCM_16") -> None:
    """Write a mono waveform atomically: to a temporary file beside ``path``, then rename.

    An int16 array is written as is; a float array is written by soundfile's own
    conversion to ``subtype``. A reader never sees a half-written file at ``path``.
    """
    with atomic_output(path) as tmp:
        sf.write(tmp, x, sr, subtype=subtype, format="WAV")


def to_int16(x: np.ndarray) -> np.ndarray:
    """Round a float waveform in [-1, 1) to int16 (the values soundfile reads back as x/32768)."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def frame_powers(x: np.ndarray, sr: int = SAMPLE_RATE, win_ms: float = 100.0) -> np.ndarray:
    """Mean power of consecutive non-overlapping windows (the last partial window included).

    Shape:
        ``[N]`` -> ``[ceil(N / win)]``
    """
    win = max(1, int(sr * win_ms / 1000))
    n = int(np.ceil(len(x) / win)) * win
    xp = np.zeros(n, dtype=np.float64)
    xp[: len(x)] = x
    counts = np.full(n // win, win, dtype=np.float64)
    counts[-1] = len(x) - (n // win - 1) * win
    return (xp.reshape(-1, win) ** 2).sum(axis=1) / counts


def active_mask(x: np.ndarray, sr: int = SAMPLE_RATE, win_ms: float = 100.0,
                rel_threshold_db: float = -40.0) -> np.ndarray:
    """Windows counted as active: power within ``rel_threshold_db`` of the signal's
    95th-percentile window power. The threshold is relative, so the mask does not change
    when the signal is scaled, and an SNR measured with it is scale-invariant.
    """
    p = frame_powers(x, sr, win_ms)
    ref = np.percentile(p, 95)
    if ref <= EPS:
        return np.zeros_like(p, dtype=bool)
    return 10 * np.log10(p + EPS) > 10 * np.log10(ref) + rel_threshold_db


def active_power(x: np.ndarray, sr: int = SAMPLE_RATE, win_ms: float = 100.0) -> float:
    """Mean power over the active windows of ``x`` (see :func:`active_mask`)."""
    mask = active_mask(x, sr, win_ms)
    if not mask.any():
        return 0.0
    win = max(1, int(sr * win_ms / 1000))
    p = frame_powers(x, sr, win_ms)
    counts = np.full(len(p), win, dtype=np.float64)
    counts[-1] = len(x) - (len(p) - 1) * win
    return float((p[mask] * counts[mask]).sum() / counts[mask].sum())


def active_snr(clean: np.ndarray, noise: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """SNR in dB between clean speech and noise, each measured on its own active windows."""
    pc, pn = active_power(clean, sr), active_power(noise, sr)
    return float(10 * np.log10((pc + EPS) / (pn + EPS)))


#: how an SNR is measured: ``global`` (whole-signal power) or ``active`` (power on active windows)
SNR_DEFINITIONS = ("global", "active")


def signal_power(x: np.ndarray, definition: str = "global", sr: int = SAMPLE_RATE) -> float:
    """Power of ``x`` as an SNR of ``definition`` (:data:`SNR_DEFINITIONS`) measures it."""
    if definition == "active":
        return active_power(x, sr)
    if definition == "global":
        return float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) if len(x) else 0.0
    raise ValueError(f"SNR definition '{definition}': expected one of {', '.join(SNR_DEFINITIONS)}")


def snr(clean: np.ndarray, noise: np.ndarray, definition: str = "global", sr: int = SAMPLE_RATE) -> float:
    """SNR in dB between clean speech and noise, both measured as ``definition`` says."""
    pc, pn = signal_power(clean, definition, sr), signal_power(noise, definition, sr)
    return float(10 * np.log10((pc + EPS) / (pn + EPS)))


def level_db(x: np.ndarray) -> float:
    """RMS level in dB full scale."""
    return float(10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + EPS))


def mix_gains(clean: np.ndarray, noise: np.ndarray, snr_db: float, target_level_db: float,
              sr: int = SAMPLE_RATE, clip_limit: float = CLIP_LIMIT,
              snr_definition: str = "global") -> tuple[float, float]:
    """Gains for clean and noise that realise ``snr_db`` at ``target_level_db`` without clipping.

    The noise is first scaled so that the SNR (of ``snr_definition``: :func:`snr`) is ``snr_db``; then one
    common gain brings the mixture's RMS to ``target_level_db`` dBFS, and is reduced, if
    needed, so no sample of clean, noise or mixture exceeds ``clip_limit``. A common
    gain leaves the SNR unchanged.

    Returns:
        ``(clean_gain, noise_gain)``.

    Raises:
        ValueError: when clean or noise is silent (no active window).
    """
    pc, pn = signal_power(clean, snr_definition, sr), signal_power(noise, snr_definition, sr)
    if pc <= EPS:
        raise ValueError("clean speech is silent" + (" (no active segment)" if snr_definition == "active" else ""))
    if pn <= EPS:
        raise ValueError("noise is silent" + (" (no active segment)" if snr_definition == "active" else ""))
    rel = np.sqrt(pc / pn) * 10 ** (-snr_db / 20)
    c = clean.astype(np.float64)
    n = noise.astype(np.float64) * rel
    mix = c + n
    common = 10 ** (target_level_db / 20) / (np.sqrt(np.mean(mix ** 2)) + EPS)
    peak = max(np.abs(mix).max(), np.abs(c).max(), np.abs(n).max()) * common
    if peak > clip_limit:
        common *= clip_limit / peak
    return float(common), float(common * rel)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, clean_gain: float, noise_gain: float):
    """Apply the gains and quantise to 16 bits so that ``noisy == clean + noise`` exactly.

    Clean and noise are rounded to int16 first and the mixture is their integer sum, so
    the relation holds bit for bit in the files (and in float after reading them).

    Returns:
        ``(clean_i16, noise_i16, noisy_i16)``, each shape ``[N]``.
    """
    c = to_int16(clean.astype(np.float64) * clean_gain)
    n = to_int16(noise.astype(np.float64) * noise_gain)
    s = c.astype(np.int32) + n.astype(np.int32)
    if s.max() > 32767 or s.min() < -32768:  # cannot happen with clip_limit < 1
        raise ValueError("mixture exceeds 16-bit range")
    return c, n, s.astype(np.int16)
