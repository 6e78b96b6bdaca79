"""Recipe stages that skip themselves when done, resume when killed, rebuild when changed,
and never lose a finished result to a failed rerun.

A stage is a command with declared inputs (files or directories), a configuration
string (the options that change its result), outputs, and *scratch* paths (where it
works). When the command succeeds a stamp is written atomically to
``<stamp_dir>/<name>.done`` holding the fingerprint of inputs and configuration and a
record of what the stage wrote (every file under its outputs and scratch paths: size, and
the SHA-256 of files up to 64 KiB). Then:

- stamp present, fingerprint unchanged, recorded files intact: skipped (one log line);
- recorded files missing or damaged (a size or small-file hash that differs, a checkpoint
  whose zip directory does not open): the stage says which and rebuilds itself;
- no stamp (the stage never finished, e.g. it was killed): the command runs again and
  resumes, since every command skips the per-file work it finished (files are written to
  a temporary name and renamed, so a half-written file is never taken as done);
- stamp present but inputs or config changed, or ``--force``: the stage is rebuilt from
  nothing. Its previous scratch paths are first *moved aside* (``.<name>.previous`` beside
  each, recorded in ``<stamp_dir>/<name>.previous.json``), not deleted: when the rebuild
  fails they are moved back with their stamp, exactly as they were, and only a rebuild that
  succeeds deletes them. A rebuild killed half-way keeps them aside; the next run resumes the
  rebuild and, again, restores them if it fails.

Before anything is moved, the files that other stages recorded under this stage's inputs are
checked: a damaged input stops the stage with a message that names the file and the stage
that rebuilds it. Fingerprints hash the content of files up to 1 MiB and the size and
modification time of larger ones; hidden files and ``log`` directories are not inputs.
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

from .fileutil import atomic_write_text, lock_fds
from .stage_record import damaged_files, damaged_inputs, other_stamps, own_record, written_files

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


# -- previous results set aside during a rebuild --------------------------------------------
def _aside(path: Path) -> Path:
    return path.parent / f".{path.name}.previous"


def _set_aside(stamp: Path, scratch, label: str) -> None:
    """Move the scratch paths and the stamp beside themselves (see the module docstring). A
    record left by an interrupted rebuild is kept: those are the last finished results."""
    record = stamp.with_suffix(".previous.json")
    if record.is_file():
        for p in map(Path, scratch):  # the interrupted rebuild's partial result
            _remove(p)
        return
    moved = []
    for p in map(Path, list(scratch) + [stamp]):
        if p.exists() or p.is_symlink():
            _remove(_aside(p))
            p.rename(_aside(p))
            moved.append(str(p))
    atomic_write_text(record, json.dumps({"moved": moved}, indent=1))
    if moved:
        print(f"{_now()} {label}: previous results moved aside ({', '.join(moved)}) until the rebuild succeeds",
              flush=True)


def _restore(stamp: Path, scratch, label: str) -> None:
    """Undo :func:`_set_aside` after a failed rebuild: the new partial results go, the previous come back."""
    record = stamp.with_suffix(".previous.json")
    if not record.is_file():
        return
    moved = json.loads(record.read_text(encoding="utf-8"))["moved"]
    for p in map(Path, list(scratch) + [stamp]):
        _remove(p)
    for p in map(Path, moved):
        _aside(p).rename(p)
    record.unlink()
    if moved:
        print(f"{_now()} {label}: previous results restored as they were ({', '.join(moved)})", flush=True)


def _drop_aside(stamp: Path) -> None:
    record = stamp.with_suffix(".previous.json")
    if record.is_file():
        for p in json.loads(record.read_text(encoding="utf-8"))["moved"]:
            _remove(_aside(Path(p)))
        record.unlink()


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    elif p.exists() or p.is_symlink():
        p.unlink()


def describe_stage(name: str, command: list[str], inputs=(), outputs=(), config: str = "",
                   stamp_dir="exp/stages", title: str = "", scratch=()) -> dict:
    """What :func:`run_stage` would run, as one JSON-able record: the stage's name, title, inputs,
    config string, outputs, scratch paths, command, and ``state``: ``done`` (it would be skipped:
    stamp present, inputs and config unchanged; recorded files are not checked) or ``to run``."""
    stamp = Path(stamp_dir) / f"{name}.done"
    try:
        old = json.loads(stamp.read_text(encoding="utf-8")) if stamp.is_file() else {}
    except json.JSONDecodeError:
        old = {}
    done = old.get("fingerprint") == fingerprint(inputs, config)
    return {"name": name, "title": title, "inputs": list(inputs), "config": config, "outputs": list(outputs),
            "scratch": list(scratch), "command": list(command), "state": "done" if done else "to run"}


def run_stage(name: str, command: list[str], inputs=(), outputs=(), config: str = "",
              stamp_dir="exp/stages", force: bool = False, title: str = "", scratch=()) -> int:
    """Run ``command`` as stage ``name`` unless it is done and unchanged; return its exit code.

    ``scratch`` paths (the stage's working dirs) are set aside before a forced run, before a
    run whose inputs or config changed since it last finished and before a run that repairs
    damaged outputs, so the stage is rebuilt from nothing; they come back when the rebuild
    fails. A stage that never finished resumes from the files it finds.
    """
    stamp = Path(stamp_dir) / f"{name}.done"
    fp = fingerprint(inputs, config)
    label = f"stage {name}" + (f" ({title})" if title else "")
    rebuild = force
    others = other_stamps(Path(stamp_dir), name)
    if not force and stamp.is_file():
        try:
            old = json.loads(stamp.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            old = {}
        missing = [str(o) for o in outputs if not Path(o).exists()]
        if old.get("fingerprint") != fp:
            why = "inputs or config changed"
        elif missing:
            why = f"outputs missing: {missing}"
        else:
            damaged = damaged_files(own_record(old.get("written") or {}, scratch, others))
            why = f"outputs damaged: {'; '.join(damaged[:3])}" if damaged else None
        if why is None:
            print(f"{_now()} {label}: done on {old.get('finished', '?')}, inputs and config unchanged: skipped",
                  flush=True)
            return 0
        print(f"{_now()} {label}: {why}, rebuilding", flush=True)
        rebuild = True
    bad = damaged_inputs(inputs, others)
    if bad:
        print(f"{_now()} {label}: FAILED before it started (nothing removed): damaged input: " + "; ".join(bad),
              flush=True)
        return 1
    if rebuild:
        _set_aside(stamp, scratch, label)
    elif stamp.exists():
        stamp.unlink()
    print(f"{_now()} {label}: started", flush=True)
    t0 = time.time()
    rc = subprocess.call(command, pass_fds=lock_fds())
    elapsed = time.time() - t0
    missing = [str(o) for o in outputs if not Path(o).exists()]
    if rc != 0 or missing:
        print(f"{_now()} {label}: FAILED " + (f"with exit code {rc}" if rc else
              f"(the command succeeded but outputs are missing: {missing})") + f" after {elapsed:.1f} s", flush=True)
        _restore(stamp, scratch, label)
        return rc or 1
    atomic_write_text(stamp, json.dumps({"name": name, "title": title, "fingerprint": fingerprint(inputs, config),
                                         "config": config, "command": command, "finished": _now(),
                                         "elapsed_s": round(elapsed, 1),
                                         "scratch": [str(p) for p in scratch],
                                         "written": own_record(written_files(list(outputs) + list(scratch)),
                                                               scratch, others)}, indent=1))
    _drop_aside(stamp)
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
                   help="rebuild even when done and unchanged (sets the --scratch paths aside first)")
    p.add_argument("--scratch", nargs="*", default=[],
                   help="working dirs of the stage, set aside before a rebuild (forced, inputs changed, outputs "
                        "damaged) and deleted only when it succeeds")
    p.add_argument("--dry-run", action="store_true",
                   help="run nothing: print what the stage would run (one line, 'dry-run: ' and a JSON record "
                        "of name, title, inputs, config, outputs, scratch, command and state: done or to run)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        p.error("put the command after --")
    k = argv.index("--")
    args = p.parse_args(argv[:k])
    command = argv[k + 1:]
    if not command:
        p.error("no command after --")
    if args.dry_run:
        rec = describe_stage(args.name, command, args.inputs, args.outputs, args.config, args.stamp_dir,
                             args.title, args.scratch)
        print("dry-run: " + json.dumps(rec), flush=True)
        return 0
    return run_stage(args.name, command, args.inputs, args.outputs, args.config, args.stamp_dir,
                     args.force, args.title, args.scratch)


if __name__ == "__main__":
    sys.exit(main())
