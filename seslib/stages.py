"""Recipe stages that skip themselves when done, resume when killed, rebuild when changed.

A stage is a command with declared inputs (files or directories), a configuration
string (the options that change its result), outputs, and *scratch* dirs (where it
works). When the command succeeds a stamp is written atomically to
``<stamp_dir>/<name>.done`` holding the fingerprint of inputs and configuration. Then:

- stamp present, fingerprint unchanged, outputs present: skipped (one log line);
- no stamp (the stage never finished, e.g. it was killed): the command runs again and
  resumes, since every command skips the per-file work it finished (files are written to
  a temporary name and renamed, so a half-written file is never taken as done);
- stamp present but inputs or config changed, or ``--force``: the scratch dirs are
  deleted and the stage is rebuilt from nothing, so no file of the old result survives.

Fingerprints hash the content of files up to 1 MiB and the size and modification time
of larger ones; hidden files and ``log`` directories are not inputs.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .fileutil import atomic_write_text

SMALL_FILE = 1 << 20


def _file_digest(path: Path, h) -> None:
    st = path.stat()
    h.update(str(path).encode())
    if st.st_size <= SMALL_FILE:
        h.update(path.read_bytes())
    else:
        h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())


def fingerprint(inputs, config: str) -> str:
    """Hash of the configuration string and the current state of the input paths.

    A missing input hashes as missing (so its later appearance reruns the stage).
    """
    h = hashlib.sha256(config.encode())
    for inp in sorted(str(i) for i in inputs):
        p = Path(inp)
        if p.is_file():
            _file_digest(p, h)
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(x.startswith(".") or x == "log" for x in rel):
                    _file_digest(f, h)
        else:
            h.update(f"missing:{inp}".encode())
    return h.hexdigest()


def _now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def run_stage(name: str, command: list[str], inputs=(), outputs=(), config: str = "",
              stamp_dir="exp/stages", force: bool = False, title: str = "", scratch=()) -> int:
    """Run ``command`` as stage ``name`` unless it is done and unchanged; return its exit code.

    ``scratch`` paths (the stage's working dirs) are deleted before a forced run and
    before a run whose inputs or config changed since it last finished, so the stage is
    rebuilt from nothing; a stage that never finished resumes from the files it finds.
    """
    stamp = Path(stamp_dir) / f"{name}.done"
    fp = fingerprint(inputs, config)
    label = f"stage {name}" + (f" ({title})" if title else "")
    rebuild = force
    if not force and stamp.is_file():
        try:
            old = json.loads(stamp.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            old = {}
        missing = [o for o in outputs if not Path(o).exists()]
        if old.get("fingerprint") == fp and not missing:
            print(f"{_now()} {label}: done on {old.get('finished', '?')}, inputs and config unchanged: skipped",
                  flush=True)
            return 0
        why = f"outputs missing: {missing}" if missing else "inputs or config changed"
        print(f"{_now()} {label}: {why}, rebuilding", flush=True)
        rebuild = True
    if stamp.exists():
        stamp.unlink()
    if rebuild:
        for p in map(Path, scratch):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        if scratch:
            print(f"{_now()} {label}: removed {' '.join(map(str, scratch))} to rebuild from scratch", flush=True)
    print(f"{_now()} {label}: started", flush=True)
    t0 = time.time()
    rc = subprocess.call(command)
    elapsed = time.time() - t0
    if rc != 0:
        print(f"{_now()} {label}: FAILED with exit code {rc} after {elapsed:.1f} s", flush=True)
        return rc
    missing = [o for o in outputs if not Path(o).exists()]
    if missing:
        print(f"{_now()} {label}: FAILED: command succeeded but outputs are missing: {missing}", flush=True)
        return 1
    atomic_write_text(stamp, json.dumps({"name": name, "title": title, "fingerprint": fingerprint(inputs, config),
                                         "config": config, "command": command, "finished": _now(),
                                         "elapsed_s": round(elapsed, 1)}, indent=1))
    print(f"{_now()} {label}: finished in {elapsed:.1f} s", flush=True)
    return 0


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m seslib.stages", usage="%(prog)s --name N [options] -- COMMAND...",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="stage name, also the stamp file name")
    p.add_argument("--title", default="", help="what the stage does, for the log")
    p.add_argument("--inputs", nargs="*", default=[], help="files or dirs whose change reruns the stage")
    p.add_argument("--outputs", nargs="*", default=[], help="paths that must exist after success")
    p.add_argument("--config", default="", help="options that change the result (a string)")
    p.add_argument("--stamp-dir", default="exp/stages", help="where stamps are kept (default exp/stages)")
    p.add_argument("--force", action="store_true",
                   help="rebuild even when done and unchanged (deletes the --scratch paths first)")
    p.add_argument("--scratch", nargs="*", default=[],
                   help="working dirs of the stage, deleted before a rebuild (forced, or inputs changed)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        p.error("put the command after --")
    k = argv.index("--")
    args = p.parse_args(argv[:k])
    command = argv[k + 1:]
    if not command:
        p.error("no command after --")
    return run_stage(args.name, command, args.inputs, args.outputs, args.config, args.stamp_dir,
                     args.force, args.title, args.scratch)


if __name__ == "__main__":
    sys.exit(main())
