"""A real one-node Slurm cluster for the tests, started on this machine (and stopped after).

Debian's ``slurmctld slurmd slurm-client munge``, installed with apt when they are missing and
the tests run as root (as in CI); ``munged`` on a private socket (its directory mode 711, which
munged insists on), a one-node ``slurm.conf`` in a temporary directory (linuxproc process
tracking, no task plugin, no accounting, ``MinJobAge`` high so finished jobs keep their exit
codes in ``scontrol``). Every daemon is stopped by its PID at teardown. When a cluster cannot be
started, :func:`start` raises :class:`Unavailable` with the reason (the tests skip with it).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
DAEMONS = ["munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo"]


class Unavailable(RuntimeError):
    """No Slurm cluster can be started here; the message says why."""


def _which(name: str) -> str | None:
    return shutil.which(name) or next((str(p) for d in ("/usr/sbin", "/sbin") if (p := Path(d) / name).is_file()), None)


def _install() -> None:
    missing = [d for d in DAEMONS if _which(d) is None]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable(f"Slurm is not installed ({', '.join(missing)} missing) and apt-get as root is not available")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:  # package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0 or any(_which(d) is None for d in DAEMONS):
        raise Unavailable(f"apt-get install {' '.join(PACKAGES)} failed: {(r.stderr or r.stdout)[-500:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _conf(root: Path, cpus: int) -> str:
    return f"""ClusterName=seslibtest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=1,bf_interval=1
MinJobAge=86400
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/log/jobcomp.txt
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


class Cluster:
    """A running cluster: ``env`` holds ``SLURM_CONF``; :meth:`stop` ends the daemons."""

    def __init__(self, root: Path):
        self.root = root
        self.env = {"SLURM_CONF": str(root / "slurm.conf")}

    def stop(self) -> None:
        for pidfile in ("slurmd.pid", "slurmctld.pid", "munge/munged.pid"):
            p = self.root / pidfile
            try:
                os.kill(int(p.read_text().split()[0]), signal.SIGTERM)
            except (OSError, ValueError, IndexError):
                pass

    def log_tail(self) -> str:
        return "\n".join(f"{p.name}: {p.read_text()[-800:]}" for p in sorted((self.root / "log").glob("*.log")))


def start(root: Path, timeout: float = 60.0) -> Cluster:
    """Install (if needed) and start munged, slurmctld and slurmd under ``root``."""
    _install()
    if os.geteuid() != 0:
        raise Unavailable("starting slurmd needs root")
    root = Path(root)
    for d in ("munge", "state", "spool", "log"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "munge", 0o711)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o600)
    (root / "slurm.conf").write_text(_conf(root, os.cpu_count() or 1))
    cluster = Cluster(root)
    env = dict(os.environ, **cluster.env)
    steps = [[_which("munged"), "-f", f"--socket={root}/munge/munge.socket.2", f"--key-file={key}",
              f"--log-file={root}/log/munged.log", f"--pid-file={root}/munge/munged.pid",
              f"--seed-file={root}/munge/munged.seed"],
             [_which("slurmctld"), "-f", str(root / "slurm.conf")],
             [_which("slurmd"), "-f", str(root / "slurm.conf"), "-N", "localhost"]]
    for cmd in steps:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            cluster.stop()
            raise Unavailable(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout).strip()[-500:]}")
    t0 = time.time()
    while time.time() - t0 < timeout:
        r = subprocess.run([_which("sinfo"), "-h", "-o", "%t"], env=env, capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() in ("idle", "mix", "alloc"):
            return cluster
        time.sleep(0.5)
    tail = cluster.log_tail()
    cluster.stop()
    raise Unavailable(f"the Slurm node did not come up in {timeout:.0f} s; logs:\n{tail}")
