"""What a recipe stage wrote, and whether it is still intact (see :mod:`seslib.stages`).

A stage's stamp records every file under its outputs and scratch paths (size, and the SHA-256
of files up to 64 KiB and of every checkpoint and exported model, whatever its size; logs and
hidden files left out). Hashing a checkpoint costs one read of it when the stage finishes and
one each time a stage checks it (SHA-256 of the paper-sized GCRN's checkpoints, page cache warm,
AMD EPYC, 2026-12-08: ``best.pt`` 8.0 MB in 8 ms, ``last.pt`` with the optimiser state 24 MB in
20 ms). A file is *damaged* when it is missing,
has another size or another content, or, for a checkpoint, when its zip directory does not open.
Later stages often work inside an earlier stage's dir (``exp/<system>/enhanced_test`` inside
the training dir): those files belong to the later stage's record, not the earlier one's.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

HASHED_FILE = 64 << 10
#: files hashed whatever their size: weights overwritten at the same size are damage too
HASHED_SUFFIXES = (".pt", ".onnx")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _recorded(path: Path) -> bool:
    """Whether a file under a stage's outputs is part of its record (not a log, not hidden)."""
    return not any(x.startswith(".") or x == "log" for x in path.parts) and path.suffix != ".log"


def written_files(paths) -> dict[str, list]:
    """``{file: [size, sha256 or None]}`` of every recorded file at or under ``paths``."""
    out: dict[str, list] = {}
    for root in map(Path, paths):
        files = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.is_file()) if root.is_dir() else []
        for f in files:
            rel = f.relative_to(root) if f != root else Path(f.name)
            if f != root and not _recorded(rel):
                continue
            size = f.stat().st_size
            digest = _sha256(f) if size <= HASHED_FILE or f.suffix in HASHED_SUFFIXES else None
            out[os.path.normpath(str(f))] = [size, digest]
    return out


def damaged_files(record: dict) -> list[str]:
    """What is wrong with the files of a record (:func:`written_files`): missing, another size,
    another content, a checkpoint whose zip directory does not open. Empty when intact."""
    problems = []
    for name, (size, digest) in record.items():
        p = Path(name)
        if not p.is_file():
            problems.append(f"{name} is missing")
            continue
        now = p.stat().st_size
        if now != size:
            problems.append(f"{name} has {now} bytes, {size} when written")
        elif digest and _sha256(p) != digest:
            problems.append(f"{name} changed since it was written")
        elif p.suffix == ".pt":
            try:
                zipfile.ZipFile(p).close()
            except (zipfile.BadZipFile, OSError) as exc:
                problems.append(f"{name} does not load ({exc})")
    return problems


def other_stamps(stamp_dir: Path, name: str) -> list[tuple[str, dict]]:
    """``(stage name, stamp)`` of every finished stage but ``name``."""
    out = []
    for st in sorted(Path(stamp_dir).glob("*.done")):
        if st.name != f"{name}.done":
            try:
                out.append((st.name[:-len(".done")], json.loads(st.read_text(encoding="utf-8"))))
            except (json.JSONDecodeError, OSError):
                continue
    return out


def _under(f: str, paths) -> bool:
    return any(f == w or f.startswith(w + os.sep) for w in paths)


def own_record(record: dict, mine, others: list[tuple[str, dict]]) -> dict:
    """The part of a record that is the stage's own: other stages may work inside its scratch
    paths ``mine`` (a training dir holds the enhanced audio and scores of later stages)."""
    mine = [os.path.normpath(str(p)) for p in mine]
    theirs = [q for _, st in others for q in map(os.path.normpath, st.get("scratch") or [])
              if any(q.startswith(m + os.sep) for m in mine)]
    return {f: v for f, v in record.items() if not _under(f, theirs)}


def damaged_inputs(inputs, others: list[tuple[str, dict]]) -> list[str]:
    """Problems of the files that other stages recorded at or under ``inputs``, each naming
    the stage that wrote the file."""
    wanted = [os.path.normpath(str(i)) for i in inputs]
    problems = []
    for name, st in others:
        rec = own_record(st.get("written") or {}, st.get("scratch") or [], others)
        for msg in damaged_files({f: v for f, v in rec.items() if _under(f, wanted)})[:3]:
            problems.append(f"{msg}: written by stage {name}, {_rerun_hint(name)}")
    return problems


def _rerun_hint(stage_name: str) -> str:
    m = re.match(r"(\d+)_", stage_name)
    n = m.group(1) if m else "N"
    return (f"which rebuilds it when run again (run.sh --stage {n} --stop-stage {n}, with this run's other "
            f"options)")
