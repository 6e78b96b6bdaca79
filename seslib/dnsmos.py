"""DNSMOS P.835 (Reddy, Gopal, Cutler, ICASSP 2022): a non-intrusive estimate of the speech
quality (SIG), background-noise quality (BAK) and overall quality (OVRL) that listeners of
ITU-T P.835 tests would give, plus the P.808 overall MOS, from the degraded audio alone.

The models are Microsoft's ONNX files that the PyPI package ``speechmos`` (MIT) ships in its
wheel (``dnsmos_models/sig_bak_ovr.onnx``, ``model_v8.onnx``); its own ``DNSMOS`` class does
the scoring (9.01 s windows hopped by 1 s, shorter input repeated to fill one window, the
published polynomial mapping of the raw outputs, P.808 from a 120-band log-mel input). This
module only builds that class's ONNX sessions itself, because ``speechmos.dnsmos.run``
creates them with onnxruntime's default thread pool (one thread per core in each of the
parallel scoring jobs), and it hands the class a waveform within [-1, 1]: an enhanced output
is a float file and may exceed full scale, which ``speechmos`` rejects; the values are
clipped, as a 16-bit file of the same signal would hold them (the DNS Challenge scores
16-bit files).

Known ceiling: OVRL stays near 3.3 even for clean studio speech (the P.835 ratings it was
trained on rarely reach higher), so read differences, not absolute values near the top.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
#: the keys of :meth:`DNSMOS.__call__`, in table order; their columns in score files, and table labels
KEYS = ("sig", "bak", "ovrl", "p808")
COLUMNS = tuple(f"dnsmos_{k}" for k in KEYS)
LABELS = ("SIG", "BAK", "OVRL", "P.808")
#: which models score, in the scoring stage's config (a change rescores)
MODELS = "p835:sig_bak_ovr.onnx+p808:model_v8.onnx"


def models_dir() -> Path:
    """Folder of the DNSMOS ONNX models inside the installed ``speechmos`` package."""
    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("DNSMOS needs the PyPI package speechmos (tools/install.sh installs it)")
    d = Path(list(spec.submodule_search_locations)[0]) / "dnsmos_models"
    for name in ("sig_bak_ovr.onnx", "model_v8.onnx"):
        if not (d / name).is_file():
            raise RuntimeError(f"speechmos is installed but {d / name} is missing")
    return d


def describe() -> str:
    """Which DNSMOS this is, for summaries and stage configs."""
    from importlib.metadata import version
    return f"DNSMOS P.835 sig_bak_ovr + P.808 model_v8 (speechmos {version('speechmos')})"


class DNSMOS:
    """DNSMOS of 16 kHz waveforms.

    Args:
        threads: onnxruntime threads of each model (1 in parallel scoring jobs).

    Call it with a float waveform ``[N]`` at 16 kHz; it returns ``{"sig", "bak", "ovrl",
    "p808"}`` (MOS on a 1-5 scale, averaged over the 9 s windows).
    """

    def __init__(self, threads: int = 1):
        d = models_dir()
        import onnxruntime as ort
        from speechmos.dnsmos import DNSMOS as _Scorer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = max(1, int(threads))
        scorer = _Scorer.__new__(_Scorer)  # its __init__ would build default-threaded sessions
        scorer.primary_model_path = str(d / "sig_bak_ovr.onnx")
        scorer.onnx_sess = ort.InferenceSession(scorer.primary_model_path, opts, providers=["CPUExecutionProvider"])
        scorer.p808_onnx_sess = ort.InferenceSession(str(d / "model_v8.onnx"), opts, providers=["CPUExecutionProvider"])
        self._scorer = scorer

    def __call__(self, wav: np.ndarray) -> dict[str, float]:
        x = np.clip(np.asarray(wav, dtype=np.float32).reshape(-1), -1.0, 1.0)
        if len(x) == 0:
            raise ValueError("DNSMOS of an empty waveform")
        r = self._scorer(x, SAMPLE_RATE, False)
        return {"sig": float(r["sig_mos"]), "bak": float(r["bak_mos"]), "ovrl": float(r["ovrl_mos"]),
                "p808": float(r["p808_mos"])}
