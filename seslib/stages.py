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

- no stamp, but the stage was started with other inputs or config (``<name>.started.json``
  holds the fingerprint of the interrupted run): what it left half-done is removed and the
  stage starts from nothing, so a resumed run never mixes outputs of two inputs.

Before anything is moved, the files that other stages recorded under this stage's inputs are
checked: a damaged input stops the stage with a message that names the file and the stage
that rebuilds it. With a ``root`` (the recipe dir; se.sh gives it), every output and scratch
path must lie inside its top-level dir there (``data``, ``exp``, ``dump``; those may be links
to another disk, but nothing below them may lead out of them): a stage never writes through a
link into a user's own data dir. Fingerprints hash the content of files up to 1 MiB and the
size and modification time of larger ones, and for an ``.scp`` file also the size and
modification time of every file it lists (the audio a data dir names: a set mixed again under
the same paths is another input); hidden files and ``log`` directories are not inputs.
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
from .provenance import inside
from .stage_record import damaged_files, damaged_inputs, other_stamps, own_record, written_files

SMALL_FILE = 1 << 20


def _file_digest(path: Path, h, name: str | None = None) -> None:
    st = path.stat()
    h.update((name or str(path)).encode())
    if st.st_size <= SMALL_FILE:
        h.update(path.read_bytes())
    else:
        h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())


#: version of the fingerprint written in new stamps (1: before listed files were hashed)
FINGERPRINT_VERSION = 2


def _listed_files(scp: Path, h) -> None:
    """Size and mtime of every file an scp lists (second field; a missing one hashes as missing)."""
    try:
        lines = scp.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return
    for line in lines:
        parts = line.split(maxsplit=1)
        if len(parts) == 2:
            f = Path(parts[1].strip())
            try:
                st = f.stat()
                h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
            except OSError:
                h.update(f"missing:{f}".encode())


def fingerprint(inputs, config: str, version: int = FINGERPRINT_VERSION, alias=None) -> str:
    """Hash of the configuration string and the current state of the input paths.

    A missing input hashes as missing (so its later appearance reruns the stage). From
    ``version`` 2 an ``.scp`` input also hashes the state of the files it lists. ``alias``
    ``(DIR, NAME)``: files under DIR are read there but hashed under the name NAME (a dry run's
    plan, written to a temporary dir, fingerprints as the ``exp/plan`` it stands for).
    """
    h = hashlib.sha256(config.encode())

    def name(path: str) -> str:
        if alias and (path == alias[0] or path.startswith(alias[0].rstrip("/") + "/")):
            return alias[1] + path[len(alias[0].rstrip("/")):]
        return path

    def add(f: Path) -> None:
        _file_digest(f, h, name(str(f)))
        if version >= 2 and f.suffix == ".scp":
            _listed_files(f, h)
    for inp in sorted((str(i) for i in inputs), key=name):
        p = Path(inp)
        if p.is_file():
            add(p)
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(x.startswith(".") or x == "log" for x in rel):
                    add(f)
        else:
            h.update(f"missing:{name(inp)}".encode())
    return h.hexdigest()


def _unchanged(old: dict, inputs, config: str, alias=None) -> bool:
    """Whether a stamp's fingerprint is that of ``inputs`` and ``config`` now (a stamp written
    before fingerprint version 2 is compared by the version it was written with)."""
    return old.get("fingerprint") == fingerprint(inputs, config, old.get("fingerprint_version", 1), alias)


def outside_paths(paths, root) -> list[str]:
    """The paths that do not lie inside ``root``'s top-level dir they name (each resolved), e.g.
    ``data/train`` that is a link to a dir outside ``data``."""
    out = []
    for p in map(Path, paths):
        rel = p if not p.is_absolute() else p.relative_to(root) if inside(p, root) else None
        top = Path(root) / rel.parts[0] if rel is not None and rel.parts else Path(root)
        if rel is None or not inside(Path(root) / rel, top):
            out.append(f"{p} (resolves to {Path(root, p).resolve()})")
    return out


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


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def measured_times(results_md) -> dict[str, float]:
    """``{stage name: seconds}`` from the stage table of a RESULTS.md that seslib.bin.results wrote
    (``| 3_train_base | what | 270 s | finished |``); empty when there is none."""
    import re
    out = {}
    try:
        lines = Path(results_md).read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        m = re.match(r"^\| (\d+_\S+) \| .* \| ([\d.]+) (s|min|h) \| \d{4}-\d\d-\d\d [\d:]+ \|$", line)
        if m:
            out[m.group(1)] = float(m.group(2)) * {"s": 1, "min": 60, "h": 3600}[m.group(3)]
    return out


def describe_stage(name: str, command: list[str], inputs=(), outputs=(), config: str = "",
                   stamp_dir="exp/stages", title: str = "", scratch=(), alias=None, times=None) -> dict:
    """What :func:`run_stage` would run, as one JSON-able record: the stage's name, title, inputs,
    config string, outputs, scratch paths, command, ``state``: ``done`` (it would be skipped:
    stamp present, inputs and config unchanged; recorded files are not checked) or ``to run``, and
    ``estimate_s`` with ``estimate_from``: the stage's last measured time in this recipe (its stamp,
    or the one set aside by a rebuild), else in ``times`` (:func:`measured_times`), else None."""
    stamp = Path(stamp_dir) / f"{name}.done"
    old = _load(stamp)
    done = bool(old) and _unchanged(old, inputs, config, alias)
    last = old or _load(_aside(stamp))
    est, source = (last["elapsed_s"], "stamp") if "elapsed_s" in last else \
        ((times[name], "results") if times and name in times else (None, None))
    return {"name": name, "title": title, "inputs": list(inputs), "config": config, "outputs": list(outputs),
            "scratch": list(scratch), "command": list(command), "state": "done" if done else "to run",
            "estimate_s": est, "estimate_from": source}


def summarize_dry_run(records: list[dict], plan: str = "") -> str:
    """One line: how many stages a dry run would run, and how long by measured times."""
    todo = [r for r in records if r["state"] == "to run"]
    known = [r for r in todo if r.get("estimate_s") is not None]
    hours = sum(r["estimate_s"] for r in known) / 3600
    by = {k: sum(1 for r in known if r["estimate_from"] == k) for k in ("stamp", "results")}
    unknown = len(todo) - len(known)
    return (f"dry run: {len(todo)} of {len(records)} stages to run ({len(records) - len(todo)} done); about "
            f"{hours:.2f} h by measured times ({by['stamp']} from this recipe's stamps, {by['results']} from its "
            f"RESULTS.md{f'; {unknown} never measured, not counted' if unknown else ''})"
            + (f"; this dry run's plan: {plan}" if plan else ""))


def run_stage(name: str, command: list[str], inputs=(), outputs=(), config: str = "",
              stamp_dir="exp/stages", force: bool = False, title: str = "", scratch=(), root=None) -> int:
    """Run ``command`` as stage ``name`` unless it is done and unchanged; return its exit code.

    ``scratch`` paths (the stage's working dirs) are set aside before a forced run, before a
    run whose inputs or config changed since it last finished and before a run that repairs
    damaged outputs, so the stage is rebuilt from nothing; they come back when the rebuild
    fails. A stage that never finished resumes from the files it finds, when it was started with
    the same inputs and config; else it starts from nothing. ``root``: the recipe dir that every
    output and scratch path must lie in (see the module docstring).
    """
    stamp = Path(stamp_dir) / f"{name}.done"
    fp = fingerprint(inputs, config)
    label = f"stage {name}" + (f" ({title})" if title else "")
    rebuild = force
    others = other_stamps(Path(stamp_dir), name)
    if not force and stamp.is_file():
        old = _load(stamp)
        missing = [str(o) for o in outputs if not Path(o).exists()]
        if not _unchanged(old, inputs, config):
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
    outside = outside_paths(list(outputs) + list(scratch), root) if root is not None else []
    if outside:
        print(f"{_now()} {label}: FAILED before it started (nothing written): it would write outside the recipe "
              f"dir {Path(root).resolve()}: {'; '.join(outside)}. A link there to your own data is not written "
              "through: remove the link (your data stays as it is)", flush=True)
        return 1
    bad = damaged_inputs(inputs, others)
    if bad:
        print(f"{_now()} {label}: FAILED before it started (nothing removed): damaged input: " + "; ".join(bad),
              flush=True)
        return 1
    started = stamp.with_suffix(".started.json")
    if rebuild:
        _set_aside(stamp, scratch, label)
    elif stamp.exists():
        stamp.unlink()
    elif started.is_file() and _load(started).get("fingerprint") != fp:
        print(f"{_now()} {label}: inputs or config changed since the interrupted run: what it left is removed, "
              "starting from nothing", flush=True)
        for p in map(Path, scratch):
            _remove(p)
    atomic_write_text(started, json.dumps({"fingerprint": fp, "started": _now()}))
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
                                         "fingerprint_version": FINGERPRINT_VERSION, "config": config, "command": command, "finished": _now(),
                                         "elapsed_s": round(elapsed, 1),
                                         "scratch": [str(p) for p in scratch],
                                         "written": own_record(written_files(list(outputs) + list(scratch)),
                                                               scratch, others)}, indent=1))
    _drop_aside(stamp)
    started.unlink(missing_ok=True)
    print(f"{_now()} {label}: finished in {elapsed:.1f} s", flush=True)
    return 0


def main(argv=None) -> int:
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["summary"]:  # the last line of a dry run
        q = argparse.ArgumentParser(prog="python -m seslib.stages summary",
                                    description="one line: what a dry run's records (--records) would run, and for how long")
        q.add_argument("--records", required=True, help="the JSON lines the dry run's stages appended")
        q.add_argument("--plan", default="", help="where the dry run's plan was written")
        a = q.parse_args(argv[1:])
        path = Path(a.records)
        recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []
        print(summarize_dry_run(recs, a.plan), flush=True)
        return 0
    p = argparse.ArgumentParser(
        prog="python -m seslib.stages", usage="%(prog)s --name N [options] -- COMMAND...  |  %(prog)s summary --records F",
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
    p.add_argument("--root", default=None,
                   help="the recipe dir: every output and scratch path must lie inside its top-level dir there "
                        "(no writing through a link to your own data)")
    p.add_argument("--dry-run", action="store_true",
                   help="run nothing: print what the stage would run (one line, 'dry-run: ' and a JSON record "
                        "of name, title, inputs, config, outputs, scratch, command, state: done or to run, and "
                        "the measured time estimate_s)")
    p.add_argument("--alias", default=None, metavar="DIR=NAME",
                   help="with --dry-run: inputs under DIR fingerprint as if they were under NAME (a dry run's plan)")
    p.add_argument("--records", default=None, help="with --dry-run: also append the record to this file (JSON lines)")
    p.add_argument("--times", default=None,
                   help="with --dry-run: a RESULTS.md whose stage table gives the times of stages never run here")
    if "--" not in argv:
        p.error("put the command after --")
    k = argv.index("--")
    args = p.parse_args(argv[:k])
    command = argv[k + 1:]
    if not command:
        p.error("no command after --")
    if args.dry_run:
        alias = tuple(args.alias.split("=", 1)) if args.alias else None
        rec = describe_stage(args.name, command, args.inputs, args.outputs, args.config, args.stamp_dir,
                             args.title, args.scratch, alias, measured_times(args.times) if args.times else None)
        print("dry-run: " + json.dumps(rec), flush=True)
        if args.records:
            with open(args.records, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")
        return 0
    return run_stage(args.name, command, args.inputs, args.outputs, args.config, args.stamp_dir,
                     args.force, args.title, args.scratch, args.root)


if __name__ == "__main__":
    sys.exit(main())
