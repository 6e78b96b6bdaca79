"""Dynamic mixing and augmentation: values against hand-computed cases, determinism, exact resume."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal
import torch
from conftest import kill_at_first_checkpoint

from seslib import audio, augment
from seslib.bin import make_rirs, train
from seslib.data import DataDirError
from seslib.dynamic_mix import DynamicMixer, mixing_sources
from seslib.train.trainer import Trainer

SR = 16000
TINY = ["model.channels=[4,6,8,8,8]", "train.batch_size=2", "train.crop_seconds=0.5", "train.log_every=1",
        "train.valid_every=2", "train.ckpt_every=2", "train.valid_max_utts=2", "train.threads=1"]
DYN = ["data.dynamic_mixing=true"]


@pytest.fixture(scope="module")
def rir_scp(tmp_path_factory):
    out = tmp_path_factory.mktemp("rirs")
    assert make_rirs.main(["--out", str(out), "--num", "3", "--quiet", "--rt60", "0.2", "0.3"]) == 0
    return out / "rir.scp"


def _all_on(rir_scp):
    return [f"augment={{speed: {{prob: 0.7}}, reverb: {{prob: 0.7, rir_scp: {rir_scp}}}, colour: {{prob: 0.7}}, "
            "noise_gain: {prob: 0.7}, second_noise: {prob: 0.7}}"]


# -- augmentation functions, against cases computed by hand -------------------------------------

def _peak_hz(x):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spec) * SR / len(x)


def test_speed_perturb_moves_pitch_by_the_factor_and_keeps_length():
    t = np.arange(SR) / SR
    x = np.sin(2 * np.pi * 500 * t).astype(np.float32)
    for factor in (0.9, 1.1):
        y = augment.speed_perturb(x, factor, 8000)
        assert y.shape == (8000,) and y.dtype == np.float32 and np.isfinite(y).all()
        assert abs(_peak_hz(y) - 500 * factor) < 4  # played faster: every frequency times the factor
    # a source shorter than needed is zero-padded to n
    assert augment.speed_perturb(x[:1000], 1.1, 2000)[-100:].max() == 0


def test_reverberate_aligns_the_direct_path_and_splits_early_and_late():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4000).astype(np.float32)
    rir = np.zeros(3200)
    rir[100], rir[100 + 400], rir[100 + 2400] = 2.0, 1.0, 0.5  # direct path at 100, echoes at +25 ms and +150 ms
    full, early = augment.reverberate(x, rir, early_ms=50.0)
    assert full.shape == early.shape == x.shape and full.dtype == np.float32
    # normalised to the direct path (gain 1, lag 0): early = x + 0.5 x(t-400); full adds 0.25 x(t-2400)
    e_ref = x.astype(np.float64).copy()
    e_ref[400:] += 0.5 * x[:-400]
    f_ref = e_ref.copy()
    f_ref[2400:] += 0.25 * x[:-2400]
    assert np.allclose(early, e_ref, atol=1e-5) and np.allclose(full, f_ref, atol=1e-5)
    assert len(augment.early_rir(rir, 50.0)) == 100 + 800 + 1


def test_tilt_filter_has_unit_gain_at_dc_and_the_drawn_gain_at_nyquist():
    for g in (0.5, 2.0):
        b, a = augment._tilt_filter(g, 0.7)
        _, h = scipy.signal.freqz(b, a, [0, np.pi])
        assert np.allclose(np.abs(h), [1.0, g], atol=1e-9)


def test_colour_is_stable_at_the_edges_of_its_ranges():
    """A peaking band near Nyquist with a wide bandwidth (f0 / Q > Nyquist) once made an
    unstable filter; every corner of the ranges must give a bounded signal."""
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    base = dict(augment.DEFAULTS["colour"], bandlimit_prob=0.0, compress_prob=0.0)
    for f0 in (150.0, 6000.0, 7900.0):
        for q in (0.3, 0.7, 3.0):
            for tilt in (-6.0, 6.0):
                cfg = dict(base, eq_hz=[f0, f0], eq_q=[q, q], tilt_db=[tilt, tilt], eq_gain_db=[9.0, 9.0])
                y = augment.colour(x, np.random.default_rng(1), cfg)
                assert np.isfinite(y).all() and np.abs(y).max() < 10 * np.abs(x).max(), (f0, q, tilt)


def test_gain_curve_stays_in_range_and_interpolates_in_db():
    g = augment.gain_curve(1000, np.random.default_rng(1), 6.0, 3)
    assert g.shape == (1000,) and g.dtype == np.float32
    db = 20 * np.log10(g)
    assert db.min() >= -6 - 1e-4 and db.max() <= 6 + 1e-4
    assert np.allclose(np.diff(db[:499], 2), 0, atol=1e-3)  # linear in dB between knots


def test_each_augmentation_keeps_length_dtype_finiteness_and_changes_the_signal(rir_scp):
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(8000)).astype(np.float32)
    on = {"speed": {"prob": 0.0}, "reverb": {"prob": 1.0, "rir_scp": str(rir_scp)}, "colour": {"prob": 1.0},
          "noise_gain": {"prob": 1.0}, "second_noise": {"prob": 1.0}}
    for name in ("reverb", "colour"):
        a = augment.Augmenter({name: on[name]})
        y, tgt = a.speech(x, np.random.default_rng(3))
        for z in (y, tgt):
            assert z.shape == x.shape and z.dtype == np.float32 and np.isfinite(z).all()
        assert not np.allclose(y, x, atol=1e-3), name
    for name in ("noise_gain", "second_noise"):
        a = augment.Augmenter({name: on[name]})
        z = a.noise(x, np.random.default_rng(3), second=lambda: np.ones(8000, np.float32) * 0.05)
        assert z.shape == x.shape and z.dtype == np.float32 and np.isfinite(z).all()
        assert not np.allclose(z, x, atol=1e-3), name
    # with every probability at 0 nothing changes
    y, tgt = augment.Augmenter(None).speech(x, np.random.default_rng(3))
    assert np.array_equal(y, x) and np.array_equal(tgt, x)


def test_augment_config_errors():
    with pytest.raises(ValueError, match="unknown augmentation 'pitch'"):
        augment.merge_defaults({"pitch": {"prob": 1}})
    with pytest.raises(ValueError, match="unknown keys.*'rate'"):
        augment.merge_defaults({"speed": {"rate": 1}})
    with pytest.raises(ValueError, match="rir_scp"):
        augment.merge_defaults({"reverb": {"prob": 0.5}})


# -- the mixer ----------------------------------------------------------------------------------

def test_mixer_realises_the_snr_and_is_a_function_of_seed_and_step(dirs):
    tr, _ = dirs
    m = DynamicMixer(tr, 8000, 4, seed=3, snr=(-5, 5), level=(-30, -20), align=320)
    noisy, clean = m.read(m.plan(5))
    assert noisy.shape == clean.shape == (4, 8000) and noisy.dtype == torch.float32
    again = DynamicMixer(tr, 8000, 4, seed=3, snr=(-5, 5), level=(-30, -20), align=320)
    assert all(torch.equal(a, b) for a, b in zip((noisy, clean), again.read(again.plan(5))))
    other = m.read(m.plan(6))
    assert not torch.equal(other[0], noisy)
    # the shares of two processes are the whole batch
    parts = [m.read(m.plan(5, r, 2)) for r in (0, 1)]
    assert torch.equal(parts[0][0], noisy[0::2]) and torch.equal(parts[1][0], noisy[1::2])
    # without augmentation the target is the speech in the mixture, and the SNR is as drawn
    for j in range(4):
        n, c = noisy[j].numpy().astype(np.float64), clean[j].numpy().astype(np.float64)
        z = n - c
        assert -30.1 <= audio.level_db(n) <= -19.9  # level drawn in -30..-20 dBFS
        snr = audio.snr(c, z, "global")
        assert -5.3 <= snr <= 5.3, snr
    # the active-window definition realises its own SNR on the same draws
    act = DynamicMixer(tr, 8000, 4, seed=3, snr=(-5, 5), level=(-30, -20), align=320, snr_definition="active")
    noisy, clean = act.read(act.plan(5))
    for j in range(4):
        c = clean[j].numpy().astype(np.float64)
        assert -5.3 <= audio.snr(c, noisy[j].numpy() - c, "active") <= 5.3


def test_mixer_sources_from_the_plan_and_a_clear_error_for_premixed_dirs(dirs, tmp_path):
    tr, _ = dirs
    speech, noise = mixing_sources(tr)
    assert len(speech) == 6 and len(noise) >= 1 and all(os.path.isabs(p) for p in noise)
    pre = tmp_path / "premixed"
    pre.mkdir()
    for f in ("wav.scp", "spk1.scp", "utt2num_samples", "utt2spk", "spk2utt"):
        shutil.copy(tr / f, pre / f)
    with pytest.raises(DataDirError, match="pre-mixed"):
        mixing_sources(pre)
    # a dir without a plan mixes its spk1.scp with its noise1.scp, at any sample rate
    import soundfile as sf
    slow = tmp_path / "noise8k.wav"
    sf.write(str(slow), (0.05 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32), 8000)
    (pre / "noise1.scp").write_text("".join(f"{u} {slow}\n" for u in sorted(
        line.split()[0] for line in (tr / "wav.scp").read_text().splitlines())))
    m = DynamicMixer(pre, 24000, 2, seed=1, align=320)
    assert m.noise_len == {str(slow): 16000}  # 1 s at 8 kHz counts as 16000 samples at 16 kHz
    noisy, clean = m.read(m.plan(0))
    assert noisy.shape == (2, 24000) and torch.isfinite(noisy).all() and not torch.equal(noisy, clean)


def test_exclude_leaves_matching_sources_out_of_the_mix(dirs, tmp_path):
    """data.exclude: speech and noise whose path matches a pattern never reach a batch."""
    tr, _ = dirs
    speech, noise = mixing_sources(tr)
    spk = speech[0][0]
    kept_speech, kept_noise = mixing_sources(tr, [re.escape(spk), re.escape(noise[0])])
    assert [s for s in speech if s[0] != spk] == kept_speech and len(kept_speech) < len(speech)
    assert kept_noise == noise[1:]
    with pytest.raises(DataDirError, match="leaves no noise"):
        mixing_sources(tr, [re.escape(n) for n in noise])
    m = DynamicMixer(tr, 8000, 4, seed=1, align=320, exclude=[re.escape(spk)])
    assert spk not in {s[0] for s in m.speech}


def test_augmented_mixer_target_carries_the_augmentation(dirs, rir_scp):
    tr, _ = dirs
    plain = DynamicMixer(tr, 8000, 4, seed=1, align=320)
    aug = DynamicMixer(tr, 8000, 4, seed=1, align=320, augment={"speed": {"prob": 1.0}, "colour": {"prob": 1.0},
                                                                 "reverb": {"prob": 1.0, "rir_scp": str(rir_scp)}})
    n0, c0 = plain.read(plain.plan(0))
    n1, c1 = aug.read(aug.plan(0))
    assert n1.shape == n0.shape and torch.isfinite(n1).all() and torch.isfinite(c1).all()
    assert not torch.equal(c0, c1)


# -- training ------------------------------------------------------------------------------------

def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


def test_training_config_errors(dirs, tmp_path, tiny_teacher_dir):
    tr, va = dirs
    with pytest.raises(ValueError, match="needs data.dynamic_mixing"):
        Trainer(train.load_config(None, TINY + ["augment={speed: {prob: 0.5}}"]), tr, va, tmp_path / "x")
    with pytest.raises(ValueError, match="teacher.features: online"):
        Trainer(train.load_config(None, TINY + DYN + ["mode=distill_embed", f"teacher.spec={tiny_teacher_dir}",
                                                      "teacher.dump_dir=/nonexistent"]), tr, va, tmp_path / "y")
    # online teacher features work with dynamic mixing
    t = Trainer(train.load_config(None, TINY + DYN + ["mode=distill_embed", f"teacher.spec={tiny_teacher_dir}",
                                                      "teacher.features=online", "train.max_steps=1"]),
                tr, va, tmp_path / "z")
    assert t.train()["step"] == 1


def test_dynamic_mixing_with_augmentation_resumes_exactly_after_a_kill(dirs, tmp_path, env, rir_scp):
    """N + kill + N steps == 2N steps, with dynamic mixing and every augmentation on."""
    tr, va = dirs
    base = [sys.executable, "-m", "seslib.bin.train", "--train-dir", str(tr), "--valid-dir", str(va), "--set",
            *TINY, *DYN, *_all_on(rir_scp), "train.max_steps=8"]
    ref = subprocess.run(base + ["--out", str(tmp_path / "ref")], env=env, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    log = (tmp_path / "ref" / "train.log").read_text()
    assert "dynamic mixing of 6 speech segments" in log and "reverb" in log
    out = tmp_path / "killed"
    kill_at_first_checkpoint(base + ["--out", str(out)], out, env)
    assert torch.load(out / "last.pt", weights_only=False)["step"] < 8
    r = subprocess.run(base + ["--out", str(out)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resumed from" in (out / "train.log").read_text()
    a, b = _weights(tmp_path / "ref" / "last.pt"), _weights(out / "last.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # and static mixing trains different weights from the same seed (the option is not ignored)
    Trainer(train.load_config(None, TINY + ["train.max_steps=2"]), tr, va, tmp_path / "static").train()
    Trainer(train.load_config(None, TINY + DYN + ["train.max_steps=2"]), tr, va, tmp_path / "dyn").train()
    s, d = _weights(tmp_path / "static" / "last.pt"), _weights(tmp_path / "dyn" / "last.pt")
    assert not all(torch.equal(s[k], d[k]) for k in s)
