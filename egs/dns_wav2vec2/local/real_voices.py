#!/usr/bin/env python3
"""Real human voices from Debian packages: utterances of 16 kHz speech, each with its speaker,
package and licence, and a train/test split by speaker.

  python local/real_voices.py --conf conf/real_voices.yaml --out data/local/real_voices

The packages hold short recordings (letters, syllables, words, voice prompts). For each package
of the config (fetched and unpacked as in local/real_noise.py) every audio file under its
``paths`` is read; files recorded below ``min_rate`` Hz (narrowband) or silent (active level
below ``silence_db`` dBFS) are left out. The speaker of a file is the first group of the
package's ``speaker`` pattern matched on its path (e.g. the language folder: one reader per
language), renamed by ``same_speaker`` where two folders are one person. Each speaker's clips
are joined, in path order with 0.15-0.4 s pauses, into utterances of up to ``max_seconds``
(shorter ones than ``min_seconds`` are dropped). Writes ``OUT/wavs/<speaker>/<n>.wav`` and
``OUT/voice_list.tsv`` (id, path, seconds, speaker, package, licence, split); speakers in
``test_speakers`` are heard only by test sets. Idempotent like local/real_noise.py.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import debian_sounds as deb
from seslib import audio

DEFAULTS = {"min_seconds": 2.0, "max_seconds": 6.0, "min_rate": 16000, "silence_db": -55.0, "packages": {},
            "same_speaker": {}, "test_speakers": []}
COLUMNS = ("id", "path", "seconds", "speaker", "package", "licence", "split")


def load_conf(path: Path) -> dict:
    cfg = deb.load_conf(path, DEFAULTS, ("licence", "speaker"))
    for name, p in cfg["packages"].items():
        if re.compile(p["speaker"]).groups < 1:
            raise deb.SourceConfigError(f"{path}: package {name}: 'speaker' needs a (group) for the speaker")
    return cfg


def speaker_of(package: str, rel: str, spec: dict, same: dict) -> str | None:
    m = re.search(spec["speaker"], rel)
    if not m:
        return None
    raw = f"{package.split('-')[0]}_{m.group(1)}"
    return re.sub(r"[^A-Za-z0-9_]+", "_", same.get(raw, raw))


def main(argv=None) -> int:
    p = deb.arg_parser(__doc__, "packages, licences, speaker patterns, test_speakers", "voice_list.tsv")
    a = p.parse_args(argv)
    try:
        cfg = load_conf(a.conf)
        clips: dict[str, list[np.ndarray]] = {}
        origin: dict[str, str] = {}
        seen: set = set()  # one recording is read once, whatever its names
        for package, spec in cfg["packages"].items():
            tree = deb.unpack(package, a.deb_dir or a.out / "debs", a.out / "unpacked", spec.get("paths"))
            used = narrow = 0
            files, copies = deb.unique(deb.audio_files(tree, spec.get("paths")), seen)
            for f in files:
                spk = speaker_of(package, str(f.relative_to(tree)), spec, cfg["same_speaker"])
                if spk is None:
                    continue
                if deb.native_rate(f) < cfg["min_rate"]:
                    narrow += 1
                    continue
                try:
                    x = deb.read(f)
                except audio.AudioError as exc:
                    print(f"real_voices.py: {package}: skipped {exc}", file=sys.stderr)
                    continue
                if deb.level_db(x) >= cfg["silence_db"]:
                    clips.setdefault(spk, []).append(x)
                    used += 1
                if origin.setdefault(spk, package) != package and spk not in cfg["same_speaker"].values():
                    raise deb.SourceConfigError(f"speaker {spk} comes from {origin[spk]} and {package}")
            print(f"real_voices.py: {package}: {used} clips ({narrow} narrowband left out, {copies} copies)")
    except (deb.SourceConfigError, RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        print(f"real_voices.py: {exc}", file=sys.stderr)
        return 1
    unknown = sorted(set(cfg["test_speakers"]) - set(clips))
    if unknown:
        print(f"real_voices.py: test_speakers {unknown} are not among the speakers found: {sorted(clips)}",
              file=sys.stderr)
        return 1
    rows = []
    for spk, xs in sorted(clips.items()):
        rng = np.random.default_rng(list(spk.encode()))
        for n, utt in enumerate(deb.join(xs, cfg["max_seconds"], rng, gap=(0.15, 0.4))):
            if len(utt) < cfg["min_seconds"] * audio.SAMPLE_RATE:
                continue
            dst = a.out / "wavs" / spk / f"{n:05d}.wav"
            if not dst.is_file():
                audio.write_audio(dst, utt)
            package = cfg["packages"][origin[spk]]
            rows.append({"id": f"{spk}-{n:05d}", "path": str(dst.resolve()), "seconds": f"{len(utt) / 16000:.2f}",
                         "speaker": spk, "package": origin[spk], "licence": package["licence"],
                         "split": "test" if spk in cfg["test_speakers"] else "train"})
    if not rows:
        print(f"real_voices.py: no speech found in the packages of {a.conf}", file=sys.stderr)
        return 1
    deb.write_list(a.out / "voice_list.tsv", COLUMNS, rows)
    hours = {s: sum(float(r["seconds"]) for r in rows if r["split"] == s) / 3600 for s in ("train", "test")}
    print(f"real_voices.py: {a.out / 'voice_list.tsv'}: {len(rows)} utterances of {len(clips)} speakers "
          f"({hours['train']:.2f} h train, {hours['test']:.2f} h test)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
