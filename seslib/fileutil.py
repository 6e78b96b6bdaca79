"""Writing files so that a reader never sees a half-written one."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on any
    error (or kill before the rename) ``path`` is untouched and the temporary is removed
    (a kill leaves at most a hidden ``.<name>.*.tmp`` file, never a partial ``path``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def lock_fds() -> tuple[int, ...]:
    """The file descriptor of the recipe's run lock (``SESLIB_LOCK_FD``, set by utils/lock.sh)
    when it is open, for ``subprocess``'s ``pass_fds``: every stage and job then holds the lock,
    so that jobs which outlive a killed ``run.sh`` keep a second run out until they end."""
    try:
        fd = int(os.environ.get("SESLIB_LOCK_FD", ""))
        os.fstat(fd)
    except (ValueError, OSError):
        return ()
    return (fd,)
