"""Read the variables of a CTranslate2 ``model.bin`` without CTranslate2's runtime.

The layout is the one ``ctranslate2/specs/model_spec.py`` (``ModelSpec._serialize``)
writes, binary version 6 and earlier back to 3::

    uint32 version; string spec name; uint32 revision; uint32 count
    count x (string name; uint8 rank; rank x uint32 dim; uint8 dtype id; uint32 bytes; bytes)
    uint32 alias count; alias count x (string alias; string target)

with ``string`` = uint16 length (including a trailing NUL), the UTF-8 bytes, NUL. Dtype ids:
0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16. Quantised weights (int8 or int16
with a ``<name>_scale`` sibling, as ``ModelSpec.optimize`` writes them) are dequantised to
float32 by :func:`dequantize`.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
SUPPORTED_VERSIONS = range(3, 7)


class ModelBinError(ValueError):
    """A model.bin that is not a CTranslate2 model this reader understands."""


class _Reader:
    def __init__(self, data: bytes, path: str):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ModelBinError(f"{self.path}: truncated at byte {self.pos} (wanted {n} more of "
                                f"{len(self.data)})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))[0]

    def string(self) -> str:
        n = self.unpack("H")
        raw = self.take(n)
        if n == 0 or raw[-1] != 0:
            raise ModelBinError(f"{self.path}: malformed string at byte {self.pos - n}")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ModelBinError(f"{self.path}: malformed string at byte {self.pos - n}") from None


def _bfloat16_to_float32(raw: bytes, shape) -> np.ndarray:
    u16 = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
    return u16.view(np.float32).reshape(shape)


def read_model_bin(path) -> tuple[str, int, dict[str, np.ndarray]]:
    """Spec name, spec revision and every variable (aliases resolved) of ``path``.

    Raises:
        ModelBinError: not a CTranslate2 model.bin, an unsupported version, or truncated.
    """
    path = Path(path)
    r = _Reader(path.read_bytes(), str(path))
    if len(r.data) < 4:
        raise ModelBinError(f"{path}: {len(r.data)} bytes, not a CTranslate2 model.bin")
    version = r.unpack("I")
    if version not in SUPPORTED_VERSIONS:
        raise ModelBinError(f"{path}: not a CTranslate2 model.bin of a version this reader knows "
                            f"(header {version}, supported {SUPPORTED_VERSIONS.start}-{SUPPORTED_VERSIONS.stop - 1})")
    name = r.string()
    revision = r.unpack("I")
    count = r.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        var = r.string()
        rank = r.unpack("B")
        shape = tuple(r.unpack("I") for _ in range(rank))
        type_id = r.unpack("B")
        nbytes = r.unpack("I")
        raw = r.take(nbytes)
        if type_id not in _DTYPES:
            raise ModelBinError(f"{path}: variable {var} has unknown dtype id {type_id}")
        dt = _DTYPES[type_id]
        if dt == "bfloat16":
            arr = _bfloat16_to_float32(raw, shape)
        else:
            if nbytes != int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize:
                raise ModelBinError(f"{path}: variable {var}: {nbytes} bytes for shape {shape} of {np.dtype(dt).name}")
            arr = np.frombuffer(raw, dtype=dt).reshape(shape)
        variables[var] = arr
    for _ in range(r.unpack("I")):
        alias, target = r.string(), r.string()
        if target in variables:
            variables[alias] = variables[target]
    if r.pos != len(r.data):
        raise ModelBinError(f"{path}: {len(r.data) - r.pos} unexpected bytes after the variables")
    return name, revision, variables


def dequantize(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Variable ``name`` as float32, undoing CTranslate2's int8 / int16 quantisation.

    int8: ``w = q / scale`` with one scale per output row (``scale = 127 / max|row|``);
    int16: one scale for the whole tensor (``scale = 2^10 / max|w|``).
    """
    v = variables[name]
    if v.dtype in (np.int8, np.int16) and f"{name}_scale" in variables:
        scale = np.asarray(variables[f"{name}_scale"], dtype=np.float32)
        if scale.ndim == 1 and v.ndim > 1:
            scale = scale.reshape((-1,) + (1,) * (v.ndim - 1))
        return v.astype(np.float32) / scale
    return v.astype(np.float32)
