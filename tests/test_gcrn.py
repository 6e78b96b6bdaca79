"""The causal GCRN: contract, size, causality, streaming equivalence."""
import numpy as np
import pytest
import torch

from seslib import stft
from seslib.models import GCRN, enhance_streaming
from seslib.models.gcrn import count_macs_per_second


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = GCRN()
    # non-trivial batch-norm statistics, so that eval mode is not an identity
    with torch.no_grad():
        m.train()
        for _ in range(3):
            m(torch.randn(4, 8000) * 0.1)
    return m.eval()


def test_default_contract_and_size(model):
    n = model.num_parameters()
    print(f"GCRN() parameters: {n:,}")
    assert 1_000_000 < n < 4_000_000
    x = torch.randn(3, 12345)
    with torch.no_grad():
        y = model(x)
        emb = model.encode(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert emb.shape == (3, stft.num_frames(stft.padded_length(12345)), 448)
    assert emb.shape[1] - stft.num_frames(12345) in (0, 1)


def test_ungrouped_variant_is_bigger():
    assert GCRN(lstm_groups=1).num_parameters() > GCRN().num_parameters()


def test_gradients_reach_every_parameter():
    m = GCRN(channels=[4, 6, 8, 8, 8])
    m(torch.randn(2, 4000)).pow(2).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


def test_causality(model):
    rng = np.random.default_rng(1)
    x = torch.randn(1, 16000)
    with torch.no_grad():
        y = model(x)
        for t in rng.integers(2000, 15000, 5):
            x2 = x.clone()
            x2[0, t:] = torch.randn(16000 - t)
            y2 = model(x2)
            changed = torch.nonzero((y2 - y).abs()[0] > 1e-6)
            # nothing before t minus one window (400 samples) may change
            assert changed.min().item() >= t - 400, (t, changed.min().item())


@pytest.mark.parametrize("n,chunk", [(399, 100), (400, 400), (721, 7), (16000, 320), (12345, 1000), (5000, 5000)])
def test_streaming_equals_offline(model, n, chunk):
    x = torch.randn(n) * 0.1
    with torch.no_grad():
        y = model(x[None])[0]
        z = enhance_streaming(model, x, chunk=chunk)
    assert z.shape == y.shape
    assert (z - y).abs().max().item() < 1e-5


def test_decode_of_encode_is_forward(model):
    x = torch.randn(2, 7000)
    with torch.no_grad():
        emb, ctx = model.encode(x, return_context=True)
        assert torch.allclose(model.decode(emb, ctx), model(x), atol=1e-6)


def test_macs_count_is_positive_and_dominated_by_convs_and_lstm(model):
    m = count_macs_per_second(model)
    assert m["total"] == pytest.approx(m["encoder"] + m["lstm"] + m["decoders"] + m["output_linear"])
    assert 1e8 < m["total"] < 1e9


def test_upsample_fold_by_hand():
    """Bins [1, 2, 4]: linear x2 gives [1, 1.25, 1.75, 2.5, 3.5, 4]; even bins first, then odd."""
    from seslib.models.gcrn import upsample_fold
    h = torch.tensor([1.0, 2.0, 4.0]).reshape(1, 1, 1, 3).repeat(1, 1, 2, 1)
    out = upsample_fold(h)
    assert out.shape == (1, 2, 2, 3)
    assert torch.allclose(out[0, :, 0], torch.tensor([[1.0, 1.75, 3.5], [1.25, 2.5, 4.0]]))


def test_duplicate_skip_is_no_skip_with_summed_weights():
    """A decoder layer fed [h, h] equals the same layer on h alone with weights W_a + W_b (docs of skips)."""
    torch.manual_seed(0)
    m = GCRN(channels=[4, 6, 8], skips="duplicate", bridge=5).eval()
    layer = m.decoders[0][0]
    C = m.config["channels"][-1]
    h = torch.randn(1, C, 6, m.freqs[-1])
    single = torch.nn.ConvTranspose2d(C, layer.conv.out_channels, kernel_size=(2, 3), stride=(1, 2),
                                      output_padding=layer.conv.output_padding)
    with torch.no_grad():
        single.weight.copy_(layer.conv.weight[:C] + layer.conv.weight[C:])
        single.bias.copy_(layer.conv.bias)
        assert torch.allclose(layer.conv(m._skip(h, None)), single(h), atol=1e-5)
        up = GCRN(channels=[4, 6, 8], skips="upsample", bridge=5)
        assert not torch.allclose(up._skip(h, None), m._skip(h, None))  # another input, the same shape
        assert up._skip(h, None).shape == m._skip(h, None).shape


@pytest.mark.parametrize("skips", ["duplicate", "upsample"])
def test_teacher_decoder_streams_like_offline(skips):
    """The decoders of teacher embeddings with either skip reading, assembled behind an encoder and P:
    frame-by-frame equals offline (upsample_fold works per frame)."""
    torch.manual_seed(0)
    m = GCRN(channels=[4, 6, 8], skips=skips, bridge=5).eval()
    x = 0.1 * torch.randn(1, 16000)
    with torch.no_grad():
        assert torch.allclose(enhance_streaming(m, x[0], chunk=700), m(x)[0], atol=1e-5)
