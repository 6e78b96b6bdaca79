"""Kaldi-style job launcher: ``launch [options] JOB=1:N LOG COMMAND...``.

Runs ``COMMAND`` once per job index, with every ``JOB`` in ``LOG`` and in the command
replaced by the index, each job's output going to its own log file. Exits non-zero when
any job failed, naming the failed jobs and their logs. Without ``JOB=a:b`` the command
runs once.

Backends (``--backend``, chosen in a recipe's ``cmd.sh``):

- ``local`` runs jobs as subprocesses on this machine, at most ``--max-jobs-run`` at a time.
- ``slurm`` (:mod:`seslib.slurm`) submits ``JOB=1:N`` as one ``sbatch`` job array
  (``--max-jobs-run`` becomes the array throttle ``%K``), with partition, time, memory,
  GPUs and any other sbatch options from ``--slurm-config`` (YAML) and the per-command
  overrides ``--gpus``, ``--mem``, ``--time``, ``--cpus-per-task``, ``--nodes``. Each task
  writes its log at the path the local backend uses; the exit status of every task is read
  back from ``scontrol`` (from the log's last line once Slurm has forgotten the job); Ctrl-C
  cancels the array.

A further backend is a subclass of :class:`Backend` (``submit``: one job, returning an
object with ``poll()``) or any class with ``run_array`` (all jobs at once), added to
:data:`BACKENDS`.

A log file starts with the command and the start time and ends with the exit status and
elapsed time, as Kaldi's ``run.pl`` logs do.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .fileutil import lock_fds
from .progress import JobProgress


class Backend:
    """Starts one job; subclasses define where it runs."""

    def submit(self, command: str, log_path: Path):
        raise NotImplementedError


class LocalBackend(Backend):
    """Runs the job as a local ``bash -c`` subprocess, output appended to the log."""

    def submit(self, command: str, log_path: Path):
        f = open(log_path, "a", encoding="utf-8")
        # its own process group, so that an interrupted launcher stops the job's children too
        proc = subprocess.Popen(["bash", "-c", command], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=lock_fds())
        proc._seslib_log = f  # closed when the job ends
        return proc


def _slurm_backend(**options):
    from .slurm import SlurmBackend
    return SlurmBackend(**options)


BACKENDS = {"local": LocalBackend, "slurm": _slurm_backend}


def parse_job_range(spec: str):
    """``"JOB=1:4"`` -> ``("JOB", 1, 4)``; anything else -> None."""
    m = re.fullmatch(r"([A-Za-z_]+)=(\d+):(\d+)", spec)
    if not m:
        return None
    name, lo, hi = m.group(1), int(m.group(2)), int(m.group(3))
    if hi < lo:
        raise ValueError(f"empty job range {spec}")
    return name, lo, hi


def _command_string(args: list[str]) -> str:
    if len(args) == 1:  # one argument: a shell command line, as given
        return args[0]
    return " ".join(a if re.fullmatch(r"[\w@%+=:,./-]+", a) else shlex.quote(a) for a in args)


def job_commands(job_spec, log_template: str, command: list[str]) -> dict[int, tuple[str, Path]]:
    """Per job index: (its command line, its log path), with the job variable substituted."""
    var, lo, hi = job_spec if job_spec else ("JOB", 1, 1)
    pattern = re.compile(re.escape(var)) if job_spec else None

    def subst(s: str, j: int) -> str:
        return pattern.sub(str(j), s) if pattern else s

    return {j: (_command_string([subst(a, j) for a in command]), Path(subst(log_template, j)))
            for j in range(lo, hi + 1)}


def run_jobs(job_spec, log_template: str, command: list[str], backend: str = "local",
             max_jobs_run: int | None = None, progress: bool = True, options: dict | None = None) -> list[int]:
    """Run the jobs; return the indices of the failed ones (empty list: all succeeded).
    ``options``: keyword arguments of the backend (e.g. the Slurm config)."""
    be = BACKENDS[backend](**(options or {}))
    jobs = job_commands(job_spec, log_template, command)
    if hasattr(be, "run_array"):
        return be.run_array(jobs, log_template, max_jobs_run, progress)
    max_jobs_run = max_jobs_run or os.cpu_count() or 1
    pending = list(jobs)
    running: dict[int, tuple] = {}
    failed: list[int] = []
    total = len(jobs)
    meter = JobProgress(log_template, total) if progress else None
    try:
        _run_local(be, jobs, pending, running, failed, max_jobs_run, meter)
    except BaseException:  # Ctrl-C, SIGTERM: stop what runs, and say so in its log
        for proc, log_path, _ in running.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait()
            getattr(proc, "_seslib_log", None) and proc._seslib_log.close()
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(f"# Ended (interrupted) at {datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n")
        raise
    if meter and meter.tty:
        meter.update(total, running, final=True)
    return sorted(failed)


@contextlib.contextmanager
def signals_deferred():
    """Ctrl-C and SIGTERM received inside the block take effect when it ends (raised again then,
    to the handlers that were in place). Python-level only: started processes inherit no mask."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got = []
    old = {s: signal.signal(s, lambda n, _f: got.append(n)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, signal.SIG_DFL if h is None else h)
        for n in got:
            signal.raise_signal(n)


def _run_local(be, jobs, pending, running, failed, max_jobs_run, meter) -> None:
    total = len(jobs)
    while pending or running:
        if meter:
            meter.update(total - len(pending) - len(running), running)
        while pending and len(running) < max_jobs_run:
            j = pending.pop(0)
            cmd, log_path = jobs[j]
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "w", encoding="utf-8") as f:
                f.write(f"# {cmd}\n# Started at {datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n#\n")
            with signals_deferred():  # a job that starts is also recorded, so an interrupt stops it
                running[j] = (be.submit(cmd, log_path), log_path, time.time())
        time.sleep(0.05)
        for j, (proc, log_path, t0) in list(running.items()):
            rc = proc.poll()
            if rc is None:
                continue
            getattr(proc, "_seslib_log", None) and proc._seslib_log.close()
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(f"# Accounting: time={time.time() - t0:.0f} s\n"
                        f"# Ended (code {rc}) at {datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n")
            if rc != 0:
                failed.append(j)
            del running[j]


def run_module_jobs(module: str, args: list[str], nj: int, out_dir, name: str) -> bool:
    """Run ``python -m MODULE ARGS --nj NJ --job JOB`` as jobs 1..NJ, logs in
    ``OUT_DIR/log/NAME.JOB.log``; on failure log which jobs failed and where. Returns
    whether every job succeeded. (How the seslib CLIs split a data dir over jobs.)

    The backend and its options come from the environment variable ``SESLIB_LAUNCH`` (the
    launcher's own options, e.g. ``--backend slurm --slurm-config $SESLIB_ROOT/conf/slurm.yaml``, which a
    recipe's ``cmd.sh`` exports); unset: local jobs."""
    import logging
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", module, *args, "--nj", str(nj), "--job", "JOB"]
    opts = _parser().parse_args(shlex.split(os.environ.get("SESLIB_LAUNCH", "")) + ["x"])
    failed = run_jobs(("JOB", 1, nj), str(out_dir / "log" / f"{name}.JOB.log"), cmd, opts.backend,
                      opts.max_jobs_run, not opts.no_progress, backend_options(opts))
    if failed:
        first = out_dir / "log" / f"{name}.{failed[0]}.log"
        logging.getLogger(module).error("%s jobs %s failed; see %s/log/%s.*.log; the end of %s:\n%s", name, failed,
                                        out_dir, name, first, log_tail(first))
    return not failed


def log_tail(path, lines: int = 8) -> str:
    """The last lines of a job's log (its error), indented, for the console; the launcher's
    own footer line is left out."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "    (no log)"
    text = [t for t in text if t.strip() and not t.startswith("# ")]
    return "\n".join("    " + t[-300:] for t in text[-lines:])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="utils/launch.sh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [--backend local|slurm] [--max-jobs-run K] [slurm options] [JOB=1:N] LOG COMMAND...")
    p.add_argument("--backend", default="local", choices=sorted(BACKENDS), help="where jobs run (default local)")
    p.add_argument("--max-jobs-run", type=int, default=None,
                   help="most jobs running at once (default: local: number of CPU cores; slurm: no limit)")
    p.add_argument("--no-progress", action="store_true", help="do not print the jobs' progress")
    g = p.add_argument_group("slurm backend")
    g.add_argument("--slurm-config",
                   help="YAML of sbatch settings (conf/slurm.yaml at the top of the repository documents the keys)")
    g.add_argument("--gpus", type=int, help="GPUs per task (overrides the config)")
    g.add_argument("--mem", help="memory per task, e.g. 8G (overrides the config)")
    g.add_argument("--time", help="time limit per task, e.g. 4:00:00 (overrides the config)")
    g.add_argument("--cpus-per-task", type=int, help="CPU cores per task (overrides the config)")
    g.add_argument("--nodes", type=int, help="nodes per task, for multi-node training (overrides the config)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="[JOB=1:N] LOG COMMAND...")
    return p


def backend_options(args) -> dict:
    """The backend's keyword arguments from the parsed launcher options."""
    if args.backend != "slurm":
        return {}
    over = {k: getattr(args, k) for k in ("gpus", "mem", "time", "cpus_per_task", "nodes") if getattr(args, k) is not None}
    return {"config": args.slurm_config, "overrides": over}


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    rest = args.rest
    try:
        spec = parse_job_range(rest[0]) if rest else None
    except ValueError as exc:
        p.error(str(exc))
    if spec:
        rest = rest[1:]
    if len(rest) < 2:
        p.error("need a log file and a command")
    log_template, command = rest[0], rest[1:]
    if spec and spec[0] not in log_template:
        p.error(f"the log file name must contain {spec[0]} so that jobs do not share a log")
    # SIGTERM (kill, a scheduler's time limit) is handled like Ctrl-C: running jobs are stopped,
    # a Slurm array is cancelled, the exit status says so.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        failed = run_jobs(spec, log_template, command, args.backend, args.max_jobs_run, not args.no_progress,
                          backend_options(args))
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        print(f"launch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("launch: interrupted", file=sys.stderr)
        return 130
    if failed:
        var = spec[0] if spec else "JOB"
        n = spec[2] - spec[1] + 1 if spec else 1
        logs = ", ".join(log_template.replace(var, str(j)) for j in failed[:5])
        first = log_template.replace(var, str(failed[0]))
        print(f"launch: {len(failed)} of {n} jobs failed ({var}={','.join(map(str, failed))}); see {logs}; "
              f"the end of {first}:\n{log_tail(first)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
