"""Recorded sounds from Debian packages, shared by local/real_noise.py and local/real_voices.py.

A package is fetched with ``apt-get download`` (a package registry; no root) into a deb dir,
unpacked (only its sound folders when the config names them) beside its final place and renamed when complete, and its audio
files (what libsndfile reads, and Asterisk's raw G.722 prompts) are read as 16 kHz mono.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from seslib import audio

#: kept for an independent check outside the project: never read here
RESERVED = ("sonic-pi-samples", "moonshine", "pysptk")
AUDIO = (".wav", ".ogg", ".oga", ".flac", ".opus", ".g722")


class SourceConfigError(ValueError):
    pass


def check_package_name(name: str, where: str) -> None:
    if any(r in name for r in RESERVED):
        raise SourceConfigError(f"{where}: package {name} is reserved for a check outside this project")


def load_conf(path: Path, defaults: dict, required: tuple) -> dict:
    """A source config: ``defaults`` overridden by the YAML at ``path`` (no other keys); every
    package names each key of ``required``; no reserved package. Errors name the file."""
    import yaml
    cfg = {**defaults, **(yaml.safe_load(path.read_text()) or {})}
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise SourceConfigError(f"{path}: unknown keys {unknown}; known: {sorted(defaults)}")
    for name, p in cfg["packages"].items():
        check_package_name(name, str(path))
        for key in required:
            if not (p or {}).get(key):
                raise SourceConfigError(f"{path}: package {name} needs a '{key}'")
    return cfg


def unpack(package: str, deb_dir: Path, work: Path, paths=None) -> Path:
    """The unpacked tree of ``package`` (its .deb fetched into ``deb_dir`` if missing): only
    ``paths`` (folders relative to the root; default everything)."""
    tree = work / package
    members = sorted(f"./{p.strip('/')}" for p in paths or [])
    stamp = " ".join(members) or "all"
    debs = sorted(deb_dir.glob(f"{package}_*.deb"))
    if (tree / ".unpacked").is_file() and (tree / ".unpacked").read_text().split("\n")[1:2] == [stamp]:
        return tree
    if not debs:
        deb_dir.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["apt-get", "download", package], cwd=deb_dir, capture_output=True, text=True)
        debs = sorted(deb_dir.glob(f"{package}_*.deb"))
        if r.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download {package} failed: {r.stderr.strip()[-300:]}")
    tmp = work / f".{package}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if members:  # large game packages: only their sound folders
        data = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[-1])], stdout=subprocess.PIPE)
        r = subprocess.run(["tar", "-x", "-C", str(tmp), *members], stdin=data.stdout, capture_output=True, text=True)
        if data.wait() != 0 or r.returncode != 0:
            raise RuntimeError(f"{debs[-1]}: could not extract {members}: {r.stderr.strip()[-300:]}")
    else:
        subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(tmp)], check=True)
    (tmp / ".unpacked").write_text(f"{debs[-1].name}\n{stamp}\n")
    shutil.rmtree(tree, ignore_errors=True)
    os.replace(tmp, tree)
    return tree


def audio_files(tree: Path, paths) -> list[Path]:
    """Audio files under ``paths`` (relative to the unpacked tree; default all of it), sorted."""
    roots = [tree / p for p in paths or ["."]]
    return sorted(f for r in roots if r.exists() for f in r.rglob("*") if f.suffix.lower() in AUDIO and f.is_file())


def unique(files, seen: set) -> tuple[list[Path], int]:
    """``files`` whose bytes are not in ``seen`` (SHA-256; updated), and how many were copies
    (packages ship one recording under several names, e.g. one per spelling of a language)."""
    kept = []
    for f in files:
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            kept.append(f)
    return kept, len(files) - len(kept)


def native_rate(path: Path) -> int:
    return 16000 if path.suffix.lower() == ".g722" else audio.audio_info(path)[1]


def read(path: Path) -> np.ndarray:
    """16 kHz mono float32; raw ``.g722`` (Asterisk's 64 kbit/s wideband prompts) through PyPI's g722."""
    if path.suffix.lower() != ".g722":
        return audio.read_audio(path)
    import G722
    x = np.asarray(G722.G722(16000, 64000).decode(path.read_bytes()), dtype=np.float32) / 32768.0
    if len(x) == 0:
        raise audio.AudioError(f"{path}: no G.722 frames")
    return x


def level_db(x: np.ndarray) -> float:
    """Active level in dBFS (the mixing code's active segments)."""
    return float(10 * np.log10(audio.active_power(x) + 1e-12))


def join(clips, seconds: float, rng: np.random.Generator, gap=(0.05, 0.5)) -> list[np.ndarray]:
    """Short clips joined in order, with ``gap`` seconds of silence after each, into sequences of
    up to ``seconds`` (the last one may be shorter)."""
    sr, step = audio.SAMPLE_RATE, int(seconds * audio.SAMPLE_RATE)
    out, parts, n = [], [], 0
    for i, c in enumerate(clips):
        pause = np.zeros(int(rng.uniform(*gap) * sr), np.float32)
        parts += [c, pause]
        n += len(c) + len(pause)
        if n >= step or i == len(clips) - 1:
            out.append(np.concatenate(parts)[:step])
            parts, n = [], 0
    return out


def safe_name(rel: str) -> str:
    """A file-name-safe id of a path in a package; the extension stays (grow.ogg and grow.wav differ)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", rel).strip("_")


def write_list(path: Path, columns, rows) -> None:
    from seslib.fileutil import atomic_write_text
    lines = ["\t".join(columns)] + ["\t".join(str(r[c]) for c in columns) for r in sorted(rows, key=lambda r: r["id"])]
    atomic_write_text(path, "\n".join(lines) + "\n")


def arg_parser(doc: str, conf_help: str, list_name: str):
    """The command line shared by local/real_noise.py and local/real_voices.py."""
    import argparse
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conf", required=True, type=Path, help=f"YAML: {conf_help}")
    p.add_argument("--out", required=True, type=Path, help=f"output dir (wavs/, {list_name})")
    p.add_argument("--deb-dir", type=Path, help="where the .deb files are (fetched there if missing; default OUT/debs)")
    return p
