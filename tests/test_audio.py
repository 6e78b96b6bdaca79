"""Audio I/O errors, resampling, mono policy, SNR mixing exactness."""
import logging

import numpy as np
import pytest
import soundfile as sf

from seslib import audio
from conftest import SR, speechlike, write_wav


def test_missing_file_names_utterance_and_file(tmp_path):
    with pytest.raises(audio.AudioError, match=r"utterance 'u1'.*nope\.wav.*does not exist"):
        audio.read_audio(tmp_path / "nope.wav", utt="u1")


def test_corrupt_file(tmp_path):
    p = tmp_path / "bad.wav"
    p.write_bytes(b"RIFF....WAVEfmt this is not audio at all" * 10)
    with pytest.raises(audio.AudioError, match=r"utterance 'u2'.*bad\.wav.*cannot decode"):
        audio.read_audio(p, utt="u2")


def test_zero_length(tmp_path):
    p = write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32))
    with pytest.raises(audio.AudioError, match=r"'u3'.*zero length"):
        audio.read_audio(p, utt="u3")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_inf_samples(tmp_path, bad):
    x = np.zeros(1000, np.float32)
    x[500] = bad
    p = write_wav(tmp_path / "nan.wav", x, subtype="FLOAT")
    with pytest.raises(audio.AudioError, match=r"'u4'.*NaN or infinite"):
        audio.read_audio(p, utt="u4")


def test_resample_is_logged_and_length_predicted(tmp_path, caplog):
    x = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    p = write_wav(tmp_path / "a.wav", x, sr=22050)
    with caplog.at_level(logging.INFO, logger="seslib.audio"):
        y = audio.read_audio(p)
    assert "22050 Hz -> 16000 Hz" in caplog.text
    assert len(y) == audio.num_samples_at(22050, 22050) == 16000
    # the tone survives resampling
    spec = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spec) * SR / len(y) - 440) < 2


@pytest.mark.parametrize("sr", [48000, 44100, 22050, 32000, 24000, 11025, 8000, 16000])
def test_resampled_length_is_predicted(sr):
    import soxr
    rng = np.random.default_rng(sr)
    for n in [1, 2, 3, 1035, 1037, *rng.integers(1, 300000, 20)]:
        assert len(soxr.resample(np.zeros(int(n), np.float32), sr, SR)) == audio.num_samples_at(int(n), sr), n


def test_multichannel_is_averaged_or_selected(tmp_path):
    x = np.stack([np.full(800, 0.5), np.full(800, -0.25)], axis=1).astype(np.float32)
    p = tmp_path / "st.wav"
    sf.write(str(p), x, SR, subtype="FLOAT")
    assert np.allclose(audio.read_audio(p), 0.125)
    assert np.allclose(audio.read_audio(p, channel=1), -0.25)
    with pytest.raises(audio.AudioError, match="no channel 2"):
        audio.read_audio(p, channel=2)


def test_write_is_atomic_and_roundtrips(tmp_path):
    x = audio.to_int16(np.linspace(-0.5, 0.5, 1000))
    p = tmp_path / "sub" / "x.wav"
    audio.write_audio(p, x)
    assert [q.name for q in p.parent.iterdir()] == ["x.wav"]  # no temp file left
    y, _ = sf.read(str(p), dtype="int16")
    assert np.array_equal(x, y)


def test_active_snr_is_scale_invariant():
    rng = np.random.default_rng(1)
    c, n = speechlike(rng), 0.01 * rng.standard_normal(2 * SR)
    s = audio.active_snr(c, n)
    assert audio.active_snr(3.7 * c, 3.7 * n) == pytest.approx(s, abs=1e-5)


@pytest.mark.parametrize("definition", audio.SNR_DEFINITIONS)
@pytest.mark.parametrize("seed", range(12))
def test_mixing_realises_snr_and_is_exact(seed, definition):
    rng = np.random.default_rng(seed)
    clean = speechlike(rng, rng.uniform(1, 4))
    kind = seed % 3
    if kind == 0:
        noise = rng.standard_normal(len(clean))
    elif kind == 1:  # impulsive: noise active only in short bursts
        noise = np.where(rng.random(len(clean)) < 0.002, 1.0, 0.0) + 1e-4 * rng.standard_normal(len(clean))
    else:  # loud hum that forces clipping protection
        noise = 5 * np.sin(2 * np.pi * 50 * np.arange(len(clean)) / SR)
    snr = rng.uniform(-5, 5)
    level = rng.uniform(-35, -15) if kind != 2 else -3.0
    gc, gn = audio.mix_gains(clean, noise, snr, level, snr_definition=definition)
    c, z, s = audio.mix_at_snr(clean, noise, gc, gn)
    assert np.array_equal(s.astype(np.int32), c.astype(np.int32) + z.astype(np.int32))
    assert np.abs(s).max() <= 0.99 * 32768 + 1
    assert audio.snr(c / 32768, z / 32768, definition) == pytest.approx(snr, abs=0.1)
    lvl = audio.level_db(s / 32768)
    assert lvl <= level + 0.1
    if max(np.abs(s).max(), np.abs(c).max(), np.abs(z).max()) < 0.98 * 32768:  # clipping protection idle
        assert lvl == pytest.approx(level, abs=0.1)
    else:  # protection lowered the level to keep peaks at the limit
        assert max(np.abs(s).max(), np.abs(c).max(), np.abs(z).max()) >= 0.98 * 32768


def test_global_and_active_snr_by_hand():
    """Speech of amplitude 1 for 1 s of 4 s (silence after), white-ish noise of power 0.01 throughout:
    global speech power 1/4 -> 10 log10(0.25 / 0.01) = 13.98 dB; active power 1 -> 20 dB."""
    clean = np.zeros(4 * SR)
    clean[:SR] = np.where(np.arange(SR) % 2, 1.0, -1.0)
    noise = 0.1 * np.where(np.arange(4 * SR) % 2, 1.0, -1.0)
    assert audio.snr(clean, noise, "global") == pytest.approx(10 * np.log10(25), abs=1e-6)
    assert audio.snr(clean, noise, "active") == pytest.approx(20.0, abs=1e-6)
    with pytest.raises(ValueError, match="SNR definition 'peak'"):
        audio.snr(clean, noise, "peak")


@pytest.mark.parametrize("definition", audio.SNR_DEFINITIONS)
def test_silent_inputs_are_rejected(definition):
    with pytest.raises(ValueError, match="clean speech is silent"):
        audio.mix_gains(np.zeros(SR), np.ones(SR), 0, -25, snr_definition=definition)
    with pytest.raises(ValueError, match="noise is silent"):
        audio.mix_gains(np.ones(SR), np.zeros(SR), 0, -25, snr_definition=definition)
