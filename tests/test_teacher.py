"""The frozen Wav2Vec2 teacher: loading, normalisation, frame alignment with the GCRN, frozen."""
import numpy as np
import pytest
import torch

from seslib import stft
from seslib.models import GCRN
from seslib.teacher import Teacher


def test_frames_match_the_gcrn_for_many_lengths(tiny_teacher_dir):
    t = Teacher(str(tiny_teacher_dir))
    g = GCRN(channels=[4, 6, 8, 8, 8])
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for n in [1, 399, 400, 401, 719, 720, 721, *rng.integers(722, 24000, 12)]:
            x = torch.randn(2, int(n))
            assert t(x).shape[1] == g.encode(x).shape[1] == stft.num_frames(stft.padded_length(int(n))), n


def test_last_and_all_layers(tiny_teacher_dir):
    x = torch.randn(1, 8000)
    with torch.no_grad():
        last = Teacher(str(tiny_teacher_dir))(x)
        allh = Teacher(str(tiny_teacher_dir), layers="all")(x)
    assert last.shape == (1, 25, 32) and allh.shape == (1, 3, 25, 32)
    assert torch.allclose(allh[:, -1], last, atol=1e-5)


def test_normalisation_matches_the_feature_extractor(tiny_teacher_dir):
    from transformers import Wav2Vec2FeatureExtractor
    fe = Wav2Vec2FeatureExtractor.from_pretrained(str(tiny_teacher_dir))
    x = np.random.default_rng(1).standard_normal(5000).astype(np.float32) * 0.1 + 0.02
    ref = fe(x, sampling_rate=16000, return_tensors="pt").input_values
    ours = Teacher(str(tiny_teacher_dir)).normalize(torch.from_numpy(x)[None])
    assert torch.allclose(ours, ref, atol=1e-5)


def test_teacher_is_frozen_but_passes_gradients_to_its_input(tiny_teacher_dir):
    t = Teacher(str(tiny_teacher_dir))
    t.train()
    assert not t.model.training
    before = {k: v.clone() for k, v in t.state_dict().items()}
    x = torch.randn(2, 6000, requires_grad=True)
    t(x).pow(2).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in t.parameters())
    opt = torch.optim.Adam([p for p in t.parameters() if p.requires_grad] or [torch.zeros(1, requires_grad=True)])
    opt.step()
    assert all(torch.equal(before[k], v) for k, v in t.state_dict().items())


def test_errors(tmp_path, tiny_teacher_dir):
    with pytest.raises(FileNotFoundError, match="no such directory"):
        Teacher(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="layers must be"):
        Teacher(str(tiny_teacher_dir), layers="middle")


def test_dtw_content_scores():
    from seslib.bin.teacher_check import content_scores, dtw_distance
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 8))
    assert dtw_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    stretched = np.repeat(a, 2, axis=0)  # the same "sentence", spoken twice as slowly
    assert dtw_distance(a, stretched) == pytest.approx(0.0, abs=1e-6)
    assert dtw_distance(a, rng.standard_normal((40, 8))) > 0.2
    sents = [rng.standard_normal((int(rng.integers(20, 40)), 8)) for _ in range(4)]
    other_voice = [np.repeat(s, 2, axis=0) + 0.3 * rng.standard_normal((2 * len(s), 8)) for s in sents]
    r = content_scores(sents, other_voice)
    assert r["same_sentence_closer"] == 1.0 and r["comparisons"] == 12
    assert r["same_sentence_other_voice"] < r["other_sentence_same_voice"]
