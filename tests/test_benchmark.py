"""The benchmark script runs and reports every system (its timings are not asserted)."""
from seslib.bin import benchmark
from seslib.models import GCRN


def test_benchmark_runs(tmp_path, capsys):
    assert benchmark.main(["--seconds", "1", "--out", str(tmp_path / "b.md")]) == 0
    text = (tmp_path / "b.md").read_text()
    for row in ("| GCRN (this recipe), PyTorch | 2.00 M |", "| GCRN (this recipe), ONNX step in onnxruntime | 2.00 M |",
                "| RNNoise |", "| DeepFilterNet3 |"):
        assert row in text, row
    # the ONNX step's time split by part, every part named
    for part in ("decoders", "lstm", "encoder", "dft, windows, state copies", "output_linear"):
        assert part in text.split("ONNX step, share")[1], part


def test_gcrn_latency_is_one_window():
    assert benchmark.gcrn_latency(GCRN(channels=[4, 6, 8, 8, 8]).eval(), n=2000) == 400


def test_flop_counter_agrees_with_analytic_count_without_lstm():
    from seslib.models.gcrn import count_macs_per_second
    m = GCRN().eval()
    macs = count_macs_per_second(m)
    assert abs(benchmark.flop_counter_macs(m) - (macs["total"] - macs["lstm"])) / macs["total"] < 0.01
