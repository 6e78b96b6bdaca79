"""ONNX export of the streaming GCRN step, and enhancement with onnxruntime."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from seslib.bin import enhance
from seslib.bin import export as export_cli
from seslib.data import read_kv
from seslib.export import OnnxStep, StreamingStep, check_streamable, export_onnx, run_steps, state_shapes, torch_step
from seslib.models import GCRN
from seslib.train.trainer import Trainer


def _model(seed=0, **kw):
    """A GCRN with random weights and non-trivial batch-norm statistics (eval mode)."""
    torch.manual_seed(seed)
    m = GCRN(**kw)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


def _offline(m, x):
    with torch.no_grad():
        return m(torch.from_numpy(x)[None])[0].numpy()


def test_streaming_step_equals_offline_model_at_every_edge_length():
    """The step protocol (prime, first/last flags, final overlap-add tail) reproduces the offline
    model, including inputs shorter than a window and lengths one sample past a frame."""
    m = _model(channels=[4, 6, 8, 8, 8])
    x = (0.1 * np.random.default_rng(1).standard_normal(2000)).astype(np.float32)
    step = torch_step(StreamingStep(m))
    for n in (1, 399, 400, 401, 720, 721, 1041, 2000):
        y = run_steps(step, x[:n], state_shapes(m))
        assert y.shape == (n,)
        assert np.abs(y - _offline(m, x[:n])).max() < 1e-5, n
    # the window flags matter: without 'first' the first frame would be tapered
    wrong = run_steps(lambda h, f, l, s: step(h, f * 0, l, s), x, state_shapes(m))
    assert np.abs(wrong[:80] - _offline(m, x)[:80]).max() > 1e-4


def test_onnx_export_matches_pytorch_and_carries_its_metadata(tmp_path):
    m = _model()  # the default size: what ships
    meta = export_onnx(m, tmp_path / "g.onnx", source="test")
    o = OnnxStep(tmp_path / "g.onnx")
    assert o.meta["sample_rate"] == "16000" and o.meta["hop"] == "320" and o.meta["latency_samples"] == "400"
    shapes = json.loads(meta["states"])
    assert shapes["buffer"] == [1, 320] and shapes["ola"] == [1, 80] and shapes["h0"] == [2, 1, 224]
    assert shapes == state_shapes(m) and len(shapes) == 2 + 5 + 4 + 5
    inputs = {i.name: i.shape for i in o.session.get_inputs()}
    assert all(inputs[k] == v for k, v in shapes.items()) and inputs["hop"] == [1, 320]
    x = (0.1 * np.random.default_rng(0).standard_normal(16000 + 123)).astype(np.float32)
    assert np.abs(o.enhance(x) - _offline(m, x)).max() < 1e-4
    bad = tmp_path / "other.onnx"
    import onnx
    proto = onnx.load(str(tmp_path / "g.onnx"))
    del proto.metadata_props[:]
    onnx.save(proto, str(bad))
    with pytest.raises(ValueError, match="not a seslib streaming GCRN"):
        OnnxStep(bad)


def test_models_that_cannot_stream_are_refused(tmp_path):
    with pytest.raises(ValueError, match="skips: duplicate"):
        export_onnx(GCRN(skips="duplicate", bridge=16), tmp_path / "d.onnx")
    with pytest.raises(ValueError, match="cannot stream"):
        check_streamable(torch.nn.Identity(), "x.pt")
    assert not (tmp_path / "d.onnx").exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from conftest import make_source_dir
    from test_enhance_score import TINY  # a 2-step training of a tiny GCRN

    from seslib.bin import mix_data, train
    tmp = tmp_path_factory.mktemp("export")
    src = make_source_dir(tmp)
    for tag in ("train", "test"):
        assert mix_data.main(["all", "--sources", str(src), "--out", str(tmp / tag), "--tag", tag, "--quiet"]) == 0
    Trainer(train.load_config(None, TINY), tmp / "train", tmp / "train", tmp / "exp").train()
    return tmp


def test_export_cli_and_enhance_engine_onnx(trained, tmp_path, env, monkeypatch):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ck = str(trained / "exp" / "best.pt")
    onnx_path = tmp_path / "m" / "base.onnx"
    assert export_cli.main(["--model", ck, str(onnx_path)]) == 0 and onnx_path.is_file()
    # an impossible tolerance: the check fails and nothing is left at the output path
    assert export_cli.main(["--model", ck, str(tmp_path / "bad.onnx"), "--tolerance", "-1"]) == 1
    assert not (tmp_path / "bad.onnx").exists() and list(tmp_path.glob("tmp*")) == []
    assert export_cli.main(["--model", ck, str(tmp_path / "x.pt")]) == 1
    # a data dir in 2 jobs with onnxruntime equals PyTorch's offline enhancement
    for engine, model in (("onnx", str(onnx_path)), ("torch", ck)):
        assert enhance.main(["--model", model, "--engine", engine, str(trained / "test"), str(tmp_path / engine),
                             "--nj", "2", "--quiet"]) == 0
    a, b = read_kv(tmp_path / "onnx" / "wav.scp"), read_kv(tmp_path / "torch" / "wav.scp")
    assert sorted(a) == sorted(b) and len(a) >= 2
    for u in a:
        ya, yb = sf.read(a[u])[0], sf.read(b[u])[0]
        assert ya.shape == yb.shape and np.abs(ya - yb).max() < 1e-4
    # a single file, and a checkpoint given to the onnx engine is refused with the export command
    first = next(iter(read_kv(trained / "test" / "wav.scp").values()))
    assert enhance.main(["--model", str(onnx_path), "--engine", "onnx", first, str(tmp_path / "f.wav")]) == 0
    assert enhance.main(["--model", ck, "--engine", "onnx", first, str(tmp_path / "g.wav")]) == 1
    assert not (tmp_path / "g.wav").exists()


def test_int8_export_is_smaller_quantized_and_checked(tmp_path, caplog):
    """--quantize int8: integer kernels in the graph, a third of the bytes, an output near the
    float model's but not equal to it, and the signal-to-difference check that can refuse it."""
    import logging

    import onnx
    caplog.set_level(logging.INFO)
    from seslib.export import quantize_int8
    m = _model()  # the paper-sized default: enough weights for the size ratio to mean something
    f32, i8 = tmp_path / "f.onnx", tmp_path / "i8.onnx"
    export_onnx(m, f32)
    quantize_int8(f32, i8)
    nodes = onnx.load(str(i8)).graph.node
    # every product is int8, the LSTM's four (two layers x two groups, 2-D weights) among them; convs stay float
    assert sum(n.op_type == "MatMulInteger" and "/lstm/" in n.name for n in nodes) == 4
    assert not {"ConvInteger", "MatMul", "Gemm"} & {n.op_type for n in nodes}
    assert {"DynamicQuantizeLinear", "Conv", "ConvTranspose"} <= {n.op_type for n in nodes}
    assert i8.stat().st_size < 0.4 * f32.stat().st_size
    step = OnnxStep(i8)
    assert step.meta["quantization"].startswith("int8") and step.meta["format"] == OnnxStep(f32).meta["format"]
    x = (0.1 * np.random.default_rng(2).standard_normal(8000)).astype(np.float32)
    ref, y = _offline(m, x), step.enhance(x)
    snr = 10 * np.log10(np.sum(ref ** 2) / np.sum((y - ref) ** 2))
    # quantized, and still the same model: 7.3 dB on this untrained model here (Intel Xeon VM, onnxruntime
    # 1.31.1, 2026-12-07); a trained Base gives 29.4 dB (CHANGELOG.md, "The ONNX step")
    assert np.abs(y - ref).max() > 1e-5 and snr > 5
    # the CLI: written when the check passes, refused (nothing left) when it asks for more than int8 gives
    ck = tmp_path / "m.pt"
    from seslib.checkpoint import save_checkpoint
    small = _model(channels=[4, 6, 8, 8, 8])
    save_checkpoint(ck, {"model_config": small.config, "model": small.state_dict(), "config": {"mode": "base"}})
    # (this small untrained model's int8 output sits 13.8 dB above its difference here: below the default 20)
    assert export_cli.main(["--model", str(ck), str(tmp_path / "q.onnx"), "--quantize", "int8", "--min-snr", "5",
                            "--check-seconds", "1"]) == 0
    assert "output / difference" in caplog.text and OnnxStep(tmp_path / "q.onnx").meta["quantization"]
    assert export_cli.main(["--model", str(ck), str(tmp_path / "r.onnx"), "--quantize", "int8", "--min-snr", "200",
                            "--check-seconds", "1"]) == 1
    assert "int8 step's output" in caplog.text and not (tmp_path / "r.onnx").exists()
