"""How far a set of jobs is, from their logs: one display shared by the launcher's local and
Slurm backends (:mod:`seslib.launcher`, :mod:`seslib.slurm`)."""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

_TQDM = re.compile(r"(\d+)%\|[^|]*\|\s*(\d+/\d+)")


def job_progress(log_path: Path) -> str:
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


class JobProgress:
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
        parts = [f"{j}: {p}" for j, (_, lp, _) in sorted(running.items()) if (p := job_progress(lp))]
        line = f"launch {self.name}: {done}/{self.total} jobs done" + ("; " + ", ".join(parts) if parts else "")
        if line != self.last or final:
            if self.tty:
                print("\r" + line[:150].ljust(150), end="\n" if final else "", file=sys.stderr, flush=True)
            elif self.total > 1 or parts:
                print(line, file=sys.stderr, flush=True)
            self.last = line
        self.last_t = now
