"""Kaldi-style data directories.

A data dir of this recipe holds, one line per utterance, sorted by key (byte order, as
``LC_ALL=C sort``), keys unique:

==================  =======================================================
``wav.scp``         utt -> noisy mixture (16 kHz mono wav)
``spk1.scp``        utt -> clean speech, as it is in the mixture
``noise1.scp``      utt -> noise, as it is in the mixture (noisy = clean + noise)
``utt2spk``         utt -> speaker
``spk2utt``         speaker -> utterances (derived from utt2spk)
``text``            utt -> transcript of the clean speech (may be missing where unknown)
``utt2num_samples`` utt -> number of samples of the mixture
``mix_plan.jsonl``  one JSON object per utterance: how the mixture was made
==================  =======================================================

Only ``wav.scp``, ``utt2spk`` and ``spk2utt`` are required. Scp values are paths; a
relative path is taken relative to the directory the recipe runs in.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .fileutil import atomic_write_text

PER_UTT_FILES = ("wav.scp", "spk1.scp", "noise1.scp", "utt2spk", "text", "utt2num_samples")
AUDIO_SCPS = ("wav.scp", "spk1.scp", "noise1.scp")
REQUIRED = ("wav.scp", "utt2spk", "spk2utt")
PLAN_FILE = "mix_plan.jsonl"


class DataDirError(RuntimeError):
    """A data dir or scp file is malformed; the message names the file and the key."""


def read_kv(path, allow_empty_value: bool = False) -> dict[str, str]:
    """Read a ``key value...`` file into an ordered dict.

    Raises:
        DataDirError: on a duplicate key, a line with no value, or a missing file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataDirError(f"{path}: file does not exist")
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            key = parts[0]
            value = parts[1].strip() if len(parts) > 1 else ""
            if not value and not allow_empty_value:
                raise DataDirError(f"{path}:{lineno}: key '{key}' has no value")
            if key in out:
                hint = (" (an id with a space in it? ids are the text before the first space or tab, and "
                        "must not contain whitespace)" if " " in value.strip() or "\t" in value.strip() else "")
                raise DataDirError(f"{path}:{lineno}: duplicate key '{key}'{hint}")
            out[key] = value
    return out


def write_kv(path, mapping: dict, sort: bool = True) -> None:
    """Write ``key value`` lines (sorted by key in byte order), atomically."""
    keys = sorted(mapping, key=_sort_key) if sort else list(mapping)
    atomic_write_text(path, "".join(f"{k} {mapping[k]}\n".replace(" \n", "\n") for k in keys))


def _sort_key(key: str) -> bytes:
    return key.encode("utf-8")


def spk2utt_from_utt2spk(utt2spk: dict[str, str]) -> dict[str, str]:
    """Group utterances by speaker: ``{spk: "utt1 utt2 ..."}``, utterances in sorted order."""
    groups: dict[str, list[str]] = {}
    for utt in sorted(utt2spk, key=_sort_key):
        groups.setdefault(utt2spk[utt], []).append(utt)
    return {spk: " ".join(utts) for spk, utts in groups.items()}


def read_plan(path) -> dict[str, dict]:
    """Read a mixing plan (JSON lines with an ``utt`` field) keyed by utterance."""
    path = Path(path)
    out = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                utt = entry["utt"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataDirError(f"{path}:{lineno}: not a plan entry ({exc})") from None
            if utt in out:
                raise DataDirError(f"{path}:{lineno}: duplicate key '{utt}'")
            out[utt] = entry
    return out


def write_plan(path, entries) -> None:
    """Write plan entries (dicts with ``utt``) as sorted JSON lines, atomically."""
    entries = sorted(entries, key=lambda e: _sort_key(e["utt"]))
    atomic_write_text(path, "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))


def validate_data_dir(data_dir, check_audio: str = "exists", require=()) -> list[str]:
    """Check a data dir; return the list of problems (empty when the dir is valid).

    Checks: required files present; every file sorted and free of duplicate keys; all
    per-utterance files (and the mixing plan) list the same utterances; ``spk2utt``
    agrees with ``utt2spk``; sorting by speaker keeps utterance order (Kaldi's rule);
    ``utt2num_samples`` holds positive integers; referenced audio exists.

    Args:
        data_dir: the directory.
        check_audio: ``"none"``, ``"exists"`` (every path in the audio scps exists) or
            ``"header"`` (also: decodable, and length matches ``utt2num_samples``).
        require: extra files that must be present (e.g. ``("spk1.scp", "text")``).
    """
    from .audio import AudioError, audio_info, num_samples_at

    d = Path(data_dir)
    problems: list[str] = []
    if not d.is_dir():
        return [f"{d}: not a directory"]
    for name in tuple(REQUIRED) + tuple(require):
        if not (d / name).is_file():
            problems.append(f"{d / name}: required file is missing")
    if problems:
        return problems
    tables: dict[str, dict[str, str]] = {}
    for name in PER_UTT_FILES + ("spk2utt",):
        p = d / name
        if not p.is_file():
            continue
        try:
            tables[name] = read_kv(p, allow_empty_value=(name == "text"))
        except DataDirError as exc:
            problems.append(str(exc))
            continue
        keys = list(tables[name])
        for a, b in zip(keys, keys[1:]):
            if _sort_key(a) > _sort_key(b):
                problems.append(f"{p}: not sorted ('{a}' comes before '{b}'); run utils/fix_data_dir.sh")
                break
    if problems:
        return problems
    ref = set(tables["wav.scp"])
    if not ref:
        return [f"{d / 'wav.scp'}: no utterances (an empty set cannot be trained on, enhanced or scored)"]
    for name in PER_UTT_FILES:
        if name in tables and name != "wav.scp":
            keys = set(tables[name])
            if keys != ref:
                only_here = sorted(keys - ref)[:3]
                missing = sorted(ref - keys)[:3]
                problems.append(
                    f"{d / name}: utterances differ from wav.scp "
                    f"(extra: {only_here or '-'}, missing: {missing or '-'}); run utils/fix_data_dir.sh")
    if (d / PLAN_FILE).is_file():
        try:
            plan = read_plan(d / PLAN_FILE)
            if set(plan) != ref:
                problems.append(f"{d / PLAN_FILE}: utterances differ from wav.scp")
        except DataDirError as exc:
            problems.append(str(exc))
    utt2spk = tables["utt2spk"]
    expected = spk2utt_from_utt2spk(utt2spk)
    if tables["spk2utt"] != expected:
        problems.append(f"{d / 'spk2utt'}: does not agree with utt2spk (rebuild it with utils/fix_data_dir.sh)")
    by_spk = sorted(utt2spk, key=lambda u: (_sort_key(utt2spk[u]), _sort_key(u)))
    if by_spk != list(utt2spk):
        problems.append(f"{d / 'utt2spk'}: sorting by speaker changes the utterance order; "
                        "prefix utterance ids with the speaker id")
    if "utt2num_samples" in tables:
        for utt, v in tables["utt2num_samples"].items():
            if not v.isdigit() or int(v) <= 0:
                problems.append(f"{d / 'utt2num_samples'}: utterance '{utt}' has bad length '{v}'")
                break
    lengths: dict[str, int] = {}  # of the noisy audio at 16 kHz
    if check_audio != "none":
        for name in AUDIO_SCPS:
            for utt, path in tables.get(name, {}).items():
                if check_audio == "exists" or not Path(path).is_file():
                    if not Path(path).is_file():
                        hint = (f" (is '{utt} {path.rsplit(maxsplit=1)[0]}' the id? ids must not contain whitespace)"
                                if " " in path and Path(path.rsplit(maxsplit=1)[-1]).is_file() else "")
                        problems.append(f"{d / name}: utterance '{utt}': audio file {path} does not exist{hint}")
                else:
                    try:
                        frames, sr = audio_info(path, utt)
                    except AudioError as exc:
                        problems.append(f"{d / name}: {exc}")
                        continue
                    want = tables.get("utt2num_samples", {}).get(utt)
                    if want is None and name != "wav.scp" and utt in lengths:
                        want = lengths[utt]  # no utt2num_samples: the pair must still agree with wav.scp
                    if name == "wav.scp":
                        lengths[utt] = num_samples_at(frames, sr)
                    if want is not None and num_samples_at(frames, sr) != int(want):
                        says = "utt2num_samples says" if "utt2num_samples" in tables else "the noisy wav.scp audio has"
                        problems.append(f"{d / name}: utterance '{utt}': {frames} samples at {sr} Hz in {path} "
                                        f"({num_samples_at(frames, sr)} at 16 kHz), {says} {want}")
                if len(problems) > 20:
                    problems.append("... (stopped after 20 problems)")
                    return problems
    return problems


def fix_data_dir(data_dir, utt_list=None) -> dict[str, int]:
    """Make a data dir consistent: keep the utterances present in every per-utterance file
    (and in ``utt_list`` if given), sort every file, drop duplicate lines, rebuild spk2utt.

    The original files are kept in ``<data_dir>/.backup/``.

    Returns:
        ``{"kept": n, "removed": m}``.

    Raises:
        DataDirError: when a file holds the same key twice with different values.
    """
    d = Path(data_dir)
    tables = {}
    for name in PER_UTT_FILES:
        p = d / name
        if p.is_file():
            tables[name] = _read_kv_dedup(p, allow_empty_value=(name == "text"))
    if "wav.scp" not in tables or "utt2spk" not in tables:
        raise DataDirError(f"{d}: needs at least wav.scp and utt2spk")
    plan = read_plan(d / PLAN_FILE) if (d / PLAN_FILE).is_file() else None
    keep = set.intersection(*(set(t) for t in tables.values()))
    if plan is not None:
        keep &= set(plan)
    if utt_list is not None:
        keep &= set(utt_list)
    before = len(tables["wav.scp"])
    backup = d / ".backup"
    backup.mkdir(exist_ok=True)
    for name in list(tables) + ["spk2utt", PLAN_FILE]:
        if (d / name).is_file():
            shutil.copy2(d / name, backup / name)
    for name, table in tables.items():
        write_kv(d / name, {k: v for k, v in table.items() if k in keep})
    write_kv(d / "spk2utt", spk2utt_from_utt2spk({k: v for k, v in tables["utt2spk"].items() if k in keep}))
    if plan is not None:
        write_plan(d / PLAN_FILE, [e for u, e in plan.items() if u in keep])
    return {"kept": len(keep), "removed": before - len(keep)}


def _read_kv_dedup(path, allow_empty_value=False) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\n").split(maxsplit=1)
            if not parts:
                continue
            value = parts[1].strip() if len(parts) > 1 else ""
            if not value and not allow_empty_value:
                continue
            if parts[0] in out and out[parts[0]] != value:
                raise DataDirError(f"{path}:{lineno}: key '{parts[0]}' appears twice with different values")
            out[parts[0]] = value
    return out


def split_scp(scp, out_paths) -> None:
    """Split an scp (or any key-value file) into ``len(out_paths)`` contiguous parts of
    near-equal size, keeping line order; each part is written atomically.

    Raises:
        DataDirError: when there are fewer lines than parts.
    """
    lines = [ln for ln in Path(scp).read_text(encoding="utf-8").splitlines(keepends=True) if ln.strip()]
    n = len(out_paths)
    if len(lines) < n:
        raise DataDirError(f"{scp}: {len(lines)} lines cannot be split into {n} parts")
    bounds = [round(i * len(lines) / n) for i in range(n + 1)]
    for i, p in enumerate(out_paths):
        atomic_write_text(p, "".join(lines[bounds[i]:bounds[i + 1]]))


def merge_scp(in_paths, out_path, sort: bool = True) -> None:
    """Concatenate key-value files into one (sorted, duplicate keys rejected), atomically."""
    merged: dict[str, str] = {}
    for p in in_paths:
        for k, v in read_kv(p, allow_empty_value=True).items():
            if k in merged:
                raise DataDirError(f"{p}: duplicate key '{k}' (already in an earlier part)")
            merged[k] = v
    write_kv(out_path, merged, sort=sort)
