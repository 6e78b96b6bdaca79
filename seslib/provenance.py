"""What made an output: the record a resumable output dir keeps of its producer and inputs.

A resumable tool (``seslib.bin.enhance`` into a folder or data dir, ``seslib.bin.score``) skips
the per-file work it finds finished. Finished by *whom*, on *what*, is what this module records:
before any work, the tool writes ``OUT/.made_by.json`` with

- ``producer``: the content hash of the model (a checkpoint's or ONNX file's SHA-256, or a peer's
  name) or the scoring settings;
- ``inputs``: the content hash of every input file by key (:func:`files_identity`);
- ``options``: the options that change the result.

A later run into the same dir with the same record resumes; with another record it is refused
(:class:`MadeByOthers`, one line naming what differs) unless the caller was told to overwrite,
and then nothing that is there is reused. :func:`stale` answers the question of a reader of the
outputs (the results stage): were they made from the inputs that are there now?

Content hashes are of the bytes (SHA-256), cached per process by path, size and modification
time: a test set of 250 five-second utterances hashes in well under a second.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .fileutil import atomic_write_text

RECORD = ".made_by.json"
_CACHE: dict = {}


class MadeByOthers(ValueError):
    """An output dir holds what another producer, or the same one on other inputs, made."""


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks; cached by path, size and mtime)."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _CACHE[key] = h.hexdigest()
    return _CACHE[key]


def files_identity(mapping: dict) -> str:
    """One hash of ``{key: file path}``: every key with the SHA-256 of its file's bytes, so the
    same audio under other paths is the same input, and other audio under the same path is not."""
    h = hashlib.sha256()
    for key in sorted(mapping):
        h.update(f"{key}\t{file_sha256(mapping[key])}\n".encode())
    return h.hexdigest()


def read(out_dir) -> dict | None:
    """The record of ``out_dir``, or None when it has none (or an unreadable one)."""
    try:
        return json.loads((Path(out_dir) / RECORD).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


KEYS = ("tool", "producer", "inputs", "options")  # what identifies an output; "read_from" only says where


def _same(old: dict, new: dict) -> bool:
    return all(old.get(k) == new.get(k) for k in KEYS)


def _differences(old: dict, new: dict) -> list[str]:
    names = {"tool": "another tool", "producer": "another model or scorer", "inputs": "other input audio",
             "options": "other options"}
    return [names[k] for k in KEYS if old.get(k) != new.get(k)]


def has_outputs(out_dir, names=("wavs", "split", "scores.tsv", "summary.json", "wav.scp")) -> bool:
    """Whether ``out_dir`` holds any of the outputs a resumable tool writes."""
    return any((Path(out_dir) / n).exists() for n in names)


def claim(out_dir, record: dict, overwrite: bool = False, existing=None) -> bool:
    """Take ``out_dir`` for the producer of ``record`` before any work; return whether what is
    there may be reused (False: make everything again).

    Args:
        out_dir: the output dir.
        record: ``{"producer": ..., "inputs": ..., "options": ...}`` of this run.
        overwrite: replace what another producer made (the caller makes every output again).
        existing: whether ``out_dir`` already holds outputs of the tool (default :func:`has_outputs`).

    Raises:
        MadeByOthers: the dir holds outputs of another record (or of an unknown one) and
            ``overwrite`` is False; nothing is written then.
    """
    out_dir = Path(out_dir)
    old = read(out_dir)
    if old is not None and _same(old, record):
        if old != record:  # the same content read from other paths: say where it was read now
            atomic_write_text(out_dir / RECORD, json.dumps(record, indent=1, sort_keys=True))
        return True
    there = has_outputs(out_dir) if existing is None else existing
    if (old is not None or there) and not overwrite:
        why = ("was made by " + " and ".join(_differences(old, record))) if old is not None \
            else "holds outputs with no record of what made them"
        raise MadeByOthers(f"{out_dir} {why} than this run: give --overwrite to make them again, "
                           "or another output dir")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / RECORD, json.dumps(record, indent=1, sort_keys=True))
    return not (old is not None or there)


def stale(out_dir, inputs: str) -> bool | None:
    """Whether the outputs of ``out_dir`` were made from other inputs than ``inputs`` (a
    :func:`files_identity` of the inputs now); None when the dir has no record."""
    old = read(out_dir)
    return None if old is None else old.get("inputs") != inputs


def inside(path, root) -> bool:
    """Whether ``path``, with every link resolved, lies at or below ``root`` (resolved)."""
    p, r = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return p == r or r in p.parents
