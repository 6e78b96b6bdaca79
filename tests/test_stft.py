"""The 25/20 ms STFT pair: frame alignment with Wav2Vec2 and exact reconstruction."""
import numpy as np
import pytest
import torch

from seslib import stft


@pytest.mark.parametrize("n", [400, 401, 719, 720, 721, 1000, 16000, 16001, 48319])
def test_frame_count_matches_wav2vec2_formula(n):
    x = torch.randn(2, n)
    assert stft.stft(x).shape == (2, (n - 400) // 320 + 1, 257) == (2, stft.num_frames(n), 257)


def test_frame_t_covers_320t_to_320t_plus_400():
    x = torch.zeros(1, 2000)
    x[0, 1000] = 1.0  # inside frames 2 ([640,1040)) and 3 ([960,1360)) only
    energy = stft.stft(x).abs().sum(-1)[0]
    assert set(torch.nonzero(energy > 1e-6).flatten().tolist()) == {2, 3}


def test_window_product_overlap_adds_to_one():
    T = 7
    w = stft.frame_windows(T, dtype=torch.float64) ** 2
    ola = torch.zeros(400 + 320 * (T - 1), dtype=torch.float64)
    for t in range(T):
        ola[320 * t: 320 * t + 400] += w[t]
    assert torch.allclose(ola, torch.ones_like(ola), atol=1e-12)


def test_exact_reconstruction_over_random_lengths():
    rng = np.random.default_rng(0)
    for n in [1, 399, 400, 401, *rng.integers(402, 40000, 25)]:
        n = int(n)
        x = torch.randn(3, n)
        L = stft.padded_length(n)
        assert L >= max(n, 400) and (L - 400) % 320 == 0 and L - n < 320 + 400
        xp = torch.nn.functional.pad(x, (0, L - n))
        y = stft.istft(stft.stft(xp), length=L)[:, :n]
        assert (y - x).abs().max().item() < 1e-5, n


def test_align_frames():
    f = torch.arange(12.).reshape(1, 4, 3)
    assert stft.align_frames(f, 3).shape == (1, 3, 3)
    g = stft.align_frames(f, 6)
    assert g.shape == (1, 6, 3) and torch.equal(g[:, 4], f[:, 3]) and torch.equal(g[:, 5], f[:, 3])
