"""On-the-fly augmentation of training speech and noise (used by :mod:`seslib.dynamic_mix`).

Every function takes a float waveform and a ``numpy.random.Generator`` and returns a new
float32 waveform of the same length, so a batch is a pure function of its seed. What is
applied, how often and how strongly is a config (:data:`DEFAULTS`, the ``augment``
section of a training config); :class:`Augmenter` applies it.

Speech (applied to the clean speech before mixing, so the target carries it too):

- **speed** (Kaldi/ESPnet speed perturbation): the speech is played ``factor`` times
  faster by resampling with soxr (``factor * 16 kHz`` read as 16 kHz), which moves pitch,
  formants and tempo together, the main axes on which TTS voices differ;
- **reverb**: convolution with a room impulse response from ``rir_scp`` (e.g. the bank
  that ``seslib.bin.make_rirs`` simulates with pyroomacoustics, or real RIRs). The input
  gets the full reverberant speech; the *target* is the direct path plus early
  reflections (the RIR up to ``early_ms`` after its direct-path peak), as in the DNS
  Challenge's reverberant training data: the model removes noise and late reverberation
  and keeps what a listener hears as the dry voice in a room;
- **colour** (microphone and channel): a random spectral tilt (first-order shelf), one
  random peaking EQ band, and, each with its own probability, band-limiting (Butterworth
  high-pass and low-pass, as telephone and cheap microphones do) and light compression (a
  normalised ``tanh`` soft-clipper). Filters come from ``scipy.signal``.

Noise: a random smooth **gain curve** (linear in dB between a few random points) and, with a
probability, a **second noise** added at a random level relative to the first.

Why these libraries: soxr and scipy are already dependencies and do exactly the signal
operations needed; pyroomacoustics simulates rooms (the image-source method) and is used
once, to build a RIR bank, not per step. audiomentations and pedalboard would add a
dependency for the same operations, and their randomness is not driven by a generator
that we pass, which exact resume needs.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.signal
import soxr

from . import audio
from .data import read_kv

SR = audio.SAMPLE_RATE

DEFAULTS = {
    "speed": {"prob": 0.0, "range": [0.9, 1.1]},
    "reverb": {"prob": 0.0, "rir_scp": None, "early_ms": 50.0},
    "colour": {"prob": 0.0, "tilt_db": [-6.0, 6.0], "eq_gain_db": [-9.0, 9.0], "eq_hz": [150.0, 6000.0],
               "eq_q": [0.7, 3.0], "bandlimit_prob": 0.3, "highpass_hz": [50.0, 300.0],
               "lowpass_hz": [3400.0, 7800.0], "compress_prob": 0.3, "drive": [1.5, 4.0]},
    "noise_gain": {"prob": 0.0, "range_db": 6.0, "points": 4},
    "second_noise": {"prob": 0.0, "rel_db": [-10.0, 0.0]},
}


def merge_defaults(cfg: dict | None) -> dict:
    """The augmentation config ``cfg`` over :data:`DEFAULTS`; unknown keys are an error."""
    out = json.loads(json.dumps(DEFAULTS))
    for k, v in (cfg or {}).items():
        if k not in out:
            raise ValueError(f"unknown augmentation '{k}'; known: {sorted(out)}")
        unknown = set(v) - set(out[k])
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)} of augmentation '{k}'; known: {sorted(out[k])}")
        out[k].update(v)
    if out["reverb"]["prob"] > 0 and not out["reverb"]["rir_scp"]:
        raise ValueError("augment.reverb.prob > 0 needs augment.reverb.rir_scp (a list of RIR files, e.g. "
                         "from python -m seslib.bin.make_rirs)")
    return out


def enabled(cfg: dict | None) -> dict[str, float]:
    """The augmentations a config turns on: ``{name: probability}`` for those with ``prob > 0``."""
    return {k: v["prob"] for k, v in merge_defaults(cfg).items() if v["prob"] > 0}


def _uniform(rng, lo_hi) -> float:
    return float(rng.uniform(*lo_hi))


def speed_perturb(x: np.ndarray, factor: float, n: int) -> np.ndarray:
    """Play ``x`` ``factor`` times faster (resampling; pitch and formants move with it) and
    return its first ``n`` samples (zero-padded when it is shorter).

    Shape:
        ``[M]`` -> ``[n]``; to fill ``n`` output samples give ``M >= ceil(n * factor)``.
    """
    y = soxr.resample(np.asarray(x, np.float32), SR * factor, SR)
    return np.pad(y[:n], (0, max(0, n - len(y)))).astype(np.float32)


def early_rir(rir: np.ndarray, early_ms: float) -> np.ndarray:
    """The direct path and early reflections: ``rir`` up to ``early_ms`` after its peak."""
    stop = int(np.argmax(np.abs(rir))) + int(early_ms * SR / 1000) + 1
    return rir[:stop]


def reverberate(x: np.ndarray, rir: np.ndarray, early_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """``(reverberant, early)``: ``x`` convolved with the whole RIR and with its early part
    (:func:`early_rir`), both cut to ``len(x)`` and delayed so that the direct path lines up
    with ``x`` (the target stays time-aligned with the dry speech).

    Shape:
        ``[N]``, ``[K]`` -> ``([N], [N])``
    """
    peak = int(np.argmax(np.abs(rir)))
    h = rir[peak:] / (np.abs(rir[peak]) + audio.EPS)  # direct path at lag 0, gain 1
    full = scipy.signal.fftconvolve(x, h)[: len(x)]
    early = scipy.signal.fftconvolve(x, early_rir(h, early_ms))[: len(x)]
    return full.astype(np.float32), early.astype(np.float32)


def colour(x: np.ndarray, rng: np.random.Generator, cfg: dict) -> np.ndarray:
    """Microphone/channel colouring (see the module docstring); ``cfg`` is ``DEFAULTS['colour']``-shaped."""
    y = np.asarray(x, np.float64)
    # spectral tilt: a first-order shelf, gain g at Nyquist relative to DC
    g = 10 ** (_uniform(rng, cfg["tilt_db"]) / 20)
    a = 0.7  # pole; the shelf's transition sits around a few kHz
    y = scipy.signal.lfilter(*_tilt_filter(g, a), y)
    # one peaking band: y + (G - 1) * bandpass(y)
    f0 = float(np.exp(rng.uniform(*np.log(cfg["eq_hz"]))))
    # iirpeak's bandwidth f0 / Q must stay below Nyquist, or its bilinear design is unstable
    b, a_ = scipy.signal.iirpeak(f0, max(_uniform(rng, cfg["eq_q"]), f0 / (0.8 * SR / 2)), fs=SR)
    y = y + (10 ** (_uniform(rng, cfg["eq_gain_db"]) / 20) - 1) * scipy.signal.lfilter(b, a_, y)
    if rng.random() < cfg["bandlimit_prob"]:
        sos = scipy.signal.butter(4, [_uniform(rng, cfg["highpass_hz"]), _uniform(rng, cfg["lowpass_hz"])],
                                  btype="bandpass", fs=SR, output="sos")
        y = scipy.signal.sosfilt(sos, y)
    if rng.random() < cfg["compress_prob"]:
        drive = _uniform(rng, cfg["drive"])
        peak = np.abs(y).max() + audio.EPS
        y = np.tanh(drive * y / peak) / np.tanh(drive) * peak
    return y.astype(np.float32)


def _tilt_filter(g: float, a: float):
    """First-order shelf with gain 1 at DC and ``g`` at Nyquist: ``H(z) = k (1 - b z^-1) / (1 - a z^-1)``.

    At DC ``H(1) = k (1 - b) / (1 - a) = 1`` and at Nyquist ``H(-1) = k (1 + b) / (1 + a) = g``.
    """
    # solve for b and k: (1 + b) / (1 - b) = g (1 + a) / (1 - a)
    r = g * (1 + a) / (1 - a)
    b = (r - 1) / (r + 1)
    k = (1 - a) / (1 - b)
    return [k, -k * b], [1.0, -a]


def gain_curve(n: int, rng: np.random.Generator, range_db: float, points: int) -> np.ndarray:
    """A smooth random gain (linear in dB between ``points`` random values in
    ``[-range_db, range_db]``, at evenly spaced times).

    Shape:
        ``[n]``
    """
    knots_db = rng.uniform(-range_db, range_db, max(2, points))
    return (10 ** (np.interp(np.arange(n), np.linspace(0, n - 1, len(knots_db)), knots_db) / 20)).astype(np.float32)


class RirBank:
    """Room impulse responses listed in an scp (``id path``), read once, kept in memory."""

    def __init__(self, scp):
        self.scp = Path(scp)
        if not self.scp.is_file():
            raise FileNotFoundError(f"{scp}: RIR list does not exist (build one with python -m seslib.bin.make_rirs)")
        table = read_kv(self.scp)
        self.ids = sorted(table)
        if not self.ids:
            raise ValueError(f"{scp}: no RIRs listed")
        self.rirs = [audio.read_audio(table[k], utt=f"RIR {k}") for k in self.ids]

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return self.rirs[int(rng.integers(len(self.rirs)))]


class Augmenter:
    """Applies an augmentation config (:data:`DEFAULTS`-shaped, see :func:`merge_defaults`).

    Each augmentation is applied with its probability; every random choice comes from the
    generator passed in, in a fixed order, so the output is a function of that generator's seed.
    """

    def __init__(self, cfg: dict | None):
        self.cfg = merge_defaults(cfg)
        self.rirs = RirBank(self.cfg["reverb"]["rir_scp"]) if self.cfg["reverb"]["prob"] > 0 else None

    def draw_speed(self, rng: np.random.Generator) -> float:
        c = self.cfg["speed"]
        return _uniform(rng, c["range"]) if rng.random() < c["prob"] else 1.0

    def speech(self, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(speech to mix, target)`` from dry speech ``x`` (speed is applied by the caller,
        which reads the source; see :class:`seslib.dynamic_mix.DynamicMixer`).

        Shape:
            ``[N]`` -> ``([N], [N])``
        """
        c = self.cfg
        target = x = np.asarray(x, np.float32)
        if rng.random() < c["colour"]["prob"]:
            target = x = colour(x, rng, c["colour"])
        if self.rirs is not None and rng.random() < c["reverb"]["prob"]:
            x, target = reverberate(x, self.rirs.draw(rng), c["reverb"]["early_ms"])
        return x, target

    def noise(self, z: np.ndarray, rng: np.random.Generator, second=None) -> np.ndarray:
        """Noise after the gain curve and (with ``second``, a callable giving another noise
        segment of the same length) the second noise.

        Shape:
            ``[N]`` -> ``[N]``
        """
        c = self.cfg
        z = np.asarray(z, np.float32)
        if second is not None and rng.random() < c["second_noise"]["prob"]:
            z2 = second()
            p1, p2 = audio.active_power(z), audio.active_power(z2)
            if p1 > audio.EPS and p2 > audio.EPS:
                z = z + z2 * np.sqrt(p1 / p2) * 10 ** (_uniform(rng, c["second_noise"]["rel_db"]) / 20)
        if rng.random() < c["noise_gain"]["prob"]:
            z = z * gain_curve(len(z), rng, c["noise_gain"]["range_db"], c["noise_gain"]["points"])
        return z.astype(np.float32)
