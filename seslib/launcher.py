"""Kaldi-style job launcher: ``launch [options] JOB=1:N LOG COMMAND...``.

Runs ``COMMAND`` once per job index, with every ``JOB`` in ``LOG`` and in the command
replaced by the index, each job's output going to its own log file. Exits non-zero when
any job failed, naming the failed jobs and their logs. Without ``JOB=a:b`` the command
runs once.

Backends: ``local`` runs jobs as subprocesses on this machine, at most ``--max-jobs-run``
at a time. A cluster backend is a subclass of :class:`Backend` whose ``submit`` starts a
job (e.g. a ``subprocess.Popen`` of ``sbatch --wait ...`` writing to the log) and returns
an object with ``poll() -> exit code, or None while running``; add it to
:data:`BACKENDS` and name it in ``cmd.sh``.

A log file starts with the command and the start time and ends with the exit status and
elapsed time, as Kaldi's ``run.pl`` logs do.
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path


class Backend:
    """Starts one job; subclasses define where it runs."""

    def submit(self, command: str, log_path: Path):
        raise NotImplementedError


class LocalBackend(Backend):
    """Runs the job as a local ``bash -c`` subprocess, output appended to the log."""

    def submit(self, command: str, log_path: Path):
        f = open(log_path, "a", encoding="utf-8")
        proc = subprocess.Popen(["bash", "-c", command], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        proc._seslib_log = f  # closed when the job ends
        return proc


BACKENDS = {"local": LocalBackend}


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


_TQDM = re.compile(r"(\d+)%\|[^|]*\|\s*(\d+/\d+)")


def _job_progress(log_path: Path) -> str:
    """The last tqdm status ("45% 18/40") a job wrote to its log, or ""."""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, log_path.stat().st_size - 4096))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    for seg in reversed(re.split(r"[\r\n]", tail)):
        m = _TQDM.search(seg)
        if m:
            return f"{m.group(1)}% {m.group(2)}"
    return ""


class _Progress:
    """Prints how far the jobs are, from their logs: on a terminal one updating line,
    otherwise a line every ``interval`` seconds when something changed."""

    def __init__(self, name: str, total: int, interval: float | None = None):
        self.name, self.total = name, total
        self.tty = sys.stderr.isatty()
        self.interval = interval if interval is not None else (1.0 if self.tty else 30.0)
        self.last, self.last_t = "", 0.0

    def update(self, done: int, running: dict, final: bool = False) -> None:
        now = time.time()
        if not final and now - self.last_t < self.interval:
            return
        parts = [f"{j}: {p}" for j, (_, lp, _) in sorted(running.items()) if (p := _job_progress(lp))]
        line = f"launch {self.name}: {done}/{self.total} jobs done" + ("; " + ", ".join(parts) if parts else "")
        if line != self.last or final:
            if self.tty:
                print("\r" + line[:150].ljust(150), end="\n" if final else "", file=sys.stderr, flush=True)
            elif self.total > 1 or parts:
                print(line, file=sys.stderr, flush=True)
            self.last = line
        self.last_t = now


def run_jobs(job_spec, log_template: str, command: list[str], backend: str = "local",
             max_jobs_run: int | None = None, progress: bool = True) -> list[int]:
    """Run the jobs; return the indices of the failed ones (empty list: all succeeded)."""
    if job_spec:
        var, lo, hi = job_spec
    else:
        var, lo, hi = "JOB", 1, 1
    be = BACKENDS[backend]()
    max_jobs_run = max_jobs_run or os.cpu_count() or 1
    pending = list(range(lo, hi + 1))
    running: dict[int, tuple] = {}
    failed: list[int] = []
    pattern = re.compile(re.escape(var)) if job_spec else None

    def subst(s: str, j: int) -> str:
        return pattern.sub(str(j), s) if pattern else s

    total = hi - lo + 1
    meter = _Progress(log_template, total) if progress else None
    while pending or running:
        if meter:
            meter.update(total - len(pending) - len(running), running)
        while pending and len(running) < max_jobs_run:
            j = pending.pop(0)
            cmd = _command_string([subst(a, j) for a in command])
            log_path = Path(subst(log_template, j))
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "w", encoding="utf-8") as f:
                f.write(f"# {cmd}\n# Started at {datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n#\n")
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
    if meter and meter.tty:
        meter.update(total, running, final=True)
    return sorted(failed)


def run_module_jobs(module: str, args: list[str], nj: int, out_dir, name: str) -> bool:
    """Run ``python -m MODULE ARGS --nj NJ --job JOB`` as jobs 1..NJ, logs in
    ``OUT_DIR/log/NAME.JOB.log``; on failure log which jobs failed and where. Returns
    whether every job succeeded. (How the seslib CLIs split a data dir over jobs.)"""
    import logging
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", module, *args, "--nj", str(nj), "--job", "JOB"]
    failed = run_jobs(("JOB", 1, nj), str(out_dir / "log" / f"{name}.JOB.log"), cmd)
    if failed:
        logging.getLogger(module).error("%s jobs %s failed; see %s/log/%s.*.log", name, failed, out_dir, name)
    return not failed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="utils/launch.sh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [--backend local] [--max-jobs-run K] [JOB=1:N] LOG COMMAND...")
    p.add_argument("--backend", default="local", choices=sorted(BACKENDS), help="where jobs run (default local)")
    p.add_argument("--max-jobs-run", type=int, default=None,
                   help="most jobs running at once (default: number of CPU cores)")
    p.add_argument("--no-progress", action="store_true", help="do not print the jobs' progress")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="[JOB=1:N] LOG COMMAND...")
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
    failed = run_jobs(spec, log_template, command, args.backend, args.max_jobs_run, not args.no_progress)
    if failed:
        var = spec[0] if spec else "JOB"
        n = spec[2] - spec[1] + 1 if spec else 1
        logs = ", ".join(log_template.replace(var, str(j)) for j in failed[:5])
        print(f"launch: {len(failed)} of {n} jobs failed ({var}={','.join(map(str, failed))}); see {logs}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
