"""The benchmark script runs and reports every system (its timings are not asserted)."""
from seslib.bin import benchmark
from seslib.models import GCRN


def test_benchmark_runs(tmp_path, capsys):
    import json
    (tmp_path / "exp" / "base" / "score_test").mkdir(parents=True)
    (tmp_path / "exp" / "base" / "score_test" / "summary.json").write_text(json.dumps({"pesq": 1.234}))
    (tmp_path / "int8").mkdir()
    (tmp_path / "int8" / "summary.json").write_text(json.dumps({"pesq": 1.111}))
    assert benchmark.main(["--seconds", "1", "--out", str(tmp_path / "b.md"), "--quality", str(tmp_path / "exp"),
                           "--int8-scores", str(tmp_path / "int8"), "--plot", str(tmp_path / "q.png")]) == 0
    text = (tmp_path / "b.md").read_text()
    for row in ("| GCRN (this recipe), PyTorch | 2.00 M |", "| GCRN, ONNX step (float) | 2.00 M |",
                "| GCRN, ONNX step (int8) | 2.00 M |", "| RNNoise |", "| DeepFilterNet3 |", "| GTCRN | 48.2 K | 62 M |"):
        assert row in text, row
    rows = {r.split(" | ")[0][2:]: r for r in text.splitlines() if r.startswith("| ")}
    assert rows["GCRN (this recipe), PyTorch"].endswith("| 1.23 |") and rows["GCRN, ONNX step (int8)"].endswith("| 1.11 |")
    assert rows["RNNoise"].endswith("| – |")  # no score summary for it: no PESQ
    assert (tmp_path / "q.png").stat().st_size < 300_000 and "Published, not measured here: GTCRN" in text
    # the ONNX step's time split by part, every part named
    for part in ("decoders", "lstm", "encoder", "dft, windows, state copies", "output_linear"):
        assert part in text.split("ONNX step (float), share")[1], part


def test_gcrn_latency_is_one_window():
    assert benchmark.gcrn_latency(GCRN(channels=[4, 6, 8, 8, 8]).eval(), n=2000) == 400


def test_flop_counter_agrees_with_analytic_count_without_lstm():
    from seslib.models.gcrn import count_macs_per_second
    m = GCRN().eval()
    macs = count_macs_per_second(m)
    assert abs(benchmark.flop_counter_macs(m) - (macs["total"] - macs["lstm"])) / macs["total"] < 0.01


def test_onnx_mac_count_of_a_graph_known_by_hand(tmp_path):
    """onnx-tool's count on a single MatMul of [1, 3] x [3, 4]: 12 MACs a call, times the calls a second."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    w = helper.make_tensor("w", TensorProto.FLOAT, [3, 4], np.ones(12, np.float32))
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    onnx.save(helper.make_model(g), str(tmp_path / "m.onnx"))
    assert benchmark.onnx_macs(tmp_path / "m.onnx", 50) == 12 * 50
