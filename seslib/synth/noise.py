"""Procedural noise families, each a function of a seeded generator.

Every family returns float64 audio at 16 kHz; the caller normalises the level. The
families cover the kinds of interference a speech enhancer meets: stationary broadband
(white, pink, brown, speech-shaped), nonstationary (modulated, impulsive, rain), tonal
(mains hum with harmonics, siren), mechanical (engine), and competing speech (babble,
built from synthesised utterances that are not used as targets).
"""
from __future__ import annotations

import numpy as np

from .. import audio

SR = audio.SAMPLE_RATE


def _shaped(rng, n, gain_fn) -> np.ndarray:
    """White Gaussian noise shaped in the frequency domain by ``gain_fn(freqs_hz)``."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    spec *= gain_fn(np.maximum(f, 1.0))
    x = np.fft.irfft(spec, n)
    return x / (np.std(x) + 1e-12)


def coloured(rng, n, exponent: float) -> np.ndarray:
    """Power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown), high-passed at 20 Hz."""
    return _shaped(rng, n, lambda f: f ** (-exponent / 2) * (f > 20))


def white(rng, n, **_):
    return coloured(rng, n, rng.uniform(-0.2, 0.2))


def pink(rng, n, **_):
    return coloured(rng, n, rng.uniform(0.8, 1.2))


def brown(rng, n, **_):
    return coloured(rng, n, rng.uniform(1.7, 2.2))


def speech_shaped(rng, n, **_):
    """Long-term average speech spectrum shape: flat to ~500 Hz, then about -9 dB/octave
    (after Byrne et al., 1994), the knee jittered per instance."""
    knee = rng.uniform(350, 650)
    return _shaped(rng, n, lambda f: (f > 60) / np.sqrt(1 + (f / knee) ** 3))


def hum(rng, n, **_):
    """Mains hum: 50 or 60 Hz with 2-30 harmonics of decaying, random amplitude, plus hiss."""
    f0 = rng.choice([50.0, 60.0]) * rng.uniform(0.995, 1.005)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for h in range(1, int(rng.integers(2, 31)) + 1):
        if f0 * h >= SR / 2:
            break
        x += rng.uniform(0.2, 1.0) / h ** rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi))
    x /= np.std(x) + 1e-12
    return x + 10 ** (-rng.uniform(20, 35) / 20) * pink(rng, n)


def modulated(rng, n, **_):
    """Pink or white noise with a slow amplitude modulation (0.3-8 Hz, sine or square)."""
    base = pink(rng, n) if rng.random() < 0.5 else white(rng, n)
    t = np.arange(n) / SR
    m = np.sin(2 * np.pi * rng.uniform(0.3, 8.0) * t + rng.uniform(0, 2 * np.pi))
    if rng.random() < 0.5:
        m = np.sign(m)
    depth = rng.uniform(0.5, 0.95)
    return base * (1 - depth / 2 + depth / 2 * m)


def impulsive(rng, n, **_):
    """Knocks and clicks: Poisson events (0.5-6 per second), each a decaying burst of
    band-passed noise, over a faint floor."""
    x = 10 ** (-40 / 20) * pink(rng, n)
    rate = rng.uniform(0.5, 6.0)
    t = 0.0
    while True:
        t += rng.exponential(1 / rate)
        start = int(t * SR)
        if start >= n:
            break
        dur = int(rng.uniform(0.005, 0.15) * SR)
        burst = rng.standard_normal(dur) * np.exp(-np.arange(dur) / (dur / rng.uniform(3, 8)))
        lo = rng.uniform(100, 2000)
        spec = np.fft.rfft(burst)
        f = np.fft.rfftfreq(dur, 1 / SR)
        spec *= (f > lo) * (f < lo * rng.uniform(2, 8))
        burst = np.fft.irfft(spec, dur)
        burst /= np.abs(burst).max() + 1e-12
        end = min(n, start + dur)
        x[start:end] += rng.uniform(0.3, 1.0) * burst[: end - start]
    return x


def rain(rng, n, **_):
    """Dense tiny impulses (200-2000 per second), high-passed: rain, crackle, frying."""
    x = np.zeros(n)
    k = int(rng.uniform(200, 2000) * n / SR)
    idx = rng.integers(0, n, k)
    np.add.at(x, idx, rng.standard_normal(k) * rng.pareto(3.0, k))
    cutoff = rng.uniform(500, 3000)
    return _shaped_from(x, lambda f: f > cutoff)


def _shaped_from(x, gain_fn):
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / SR)
    spec *= gain_fn(f)
    y = np.fft.irfft(spec, len(x))
    return y / (np.std(y) + 1e-12)


def siren(rng, n, **_):
    """A tone swept sinusoidally between two frequencies (sirens, alarms), some harmonics."""
    t = np.arange(n) / SR
    lo = rng.uniform(400, 900)
    hi = lo * rng.uniform(1.3, 2.2)
    rate = rng.uniform(0.1, 3.0)
    inst = lo + (hi - lo) * (0.5 + 0.5 * np.sin(2 * np.pi * rate * t))
    phase = 2 * np.pi * np.cumsum(inst) / SR
    x = sum(np.sin(h * phase) / h ** 1.5 for h in range(1, 5))
    return x / (np.std(x) + 1e-12) + 10 ** (-30 / 20) * pink(rng, n)


def engine(rng, n, **_):
    """Engine or machinery: low-passed noise amplitude-modulated at the firing rate,
    plus its harmonics."""
    t = np.arange(n) / SR
    fire = rng.uniform(8, 60)
    base = _shaped(rng, n, lambda f: (f > 20) / (1 + (f / rng.uniform(300, 1200)) ** 2))
    m = 1 + 0.8 * np.sin(2 * np.pi * fire * t) ** 2
    tones = sum(np.sin(2 * np.pi * fire * h * t + rng.uniform(0, 6.3)) / h for h in range(1, 6))
    return base * m + 0.5 * tones


def babble(rng, n, babble_speech=(), **_):
    """3-8 talkers at once, each a random synthesised utterance looped from a random offset.

    Args:
        babble_speech: waveforms (16 kHz) to draw talkers from.
    """
    if not babble_speech:
        raise ValueError("babble needs synthesised speech (babble_speech is empty)")
    x = np.zeros(n)
    for _ in range(int(rng.integers(3, 9))):
        s = babble_speech[int(rng.integers(len(babble_speech)))]
        idx = (int(rng.integers(len(s))) + np.arange(n)) % len(s)
        seg = s[idx]
        x += seg / (np.std(seg) + 1e-12) * rng.uniform(0.6, 1.0)
    return x


FAMILIES = {f.__name__: f for f in (white, pink, brown, speech_shaped, babble, hum, modulated,
                                     impulsive, rain, siren, engine)}


def make_noise(family: str, seed: int, seconds: float, babble_speech=()) -> np.ndarray:
    """One noise instance, normalised to an RMS of -25 dBFS with peaks below 0.99.

    Args:
        family: a key of :data:`FAMILIES`.
        seed: the instance is a function of this seed.
        seconds: length.
        babble_speech: waveforms for the ``babble`` family.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    x = FAMILIES[family](rng, n, babble_speech=babble_speech)
    x = x * 10 ** (-25 / 20) / (np.sqrt(np.mean(x ** 2)) + 1e-12)
    peak = np.abs(x).max()
    if peak > 0.99:
        x *= 0.99 / peak
    return x
