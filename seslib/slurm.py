"""Slurm backend of the job launcher (:mod:`seslib.launcher`): one ``sbatch`` job array.

What a recipe's ``cmd.sh`` selects with ``utils/launch.sh --backend slurm``, as ESPnet's
``cmd.sh`` selects ``slurm.pl``. For ``JOB=1:N LOG COMMAND``:

- each task's command line (``JOB`` substituted) is written to ``<log dir>/q/<log name>.<j>.sh``,
  a wrapper that writes the log at the path the local backend uses (command, start time and
  host first; accounting time and exit code last, as Kaldi's logs end);
- the tasks are submitted as one array, ``sbatch --array=1-N%K`` (``K``: ``--max-jobs-run``),
  with the settings of the YAML config (``partition``, ``time``, ``mem``, ``gpus``,
  ``cpus_per_task``, ``nodes``, ``extra``: a list of further sbatch options) and the
  per-command overrides;
- the launcher waits, printing progress (tasks done, tqdm progress read from the logs),
  and reads back every task's exit status from ``scontrol show job`` (no accounting needed;
  a cluster should keep finished jobs for a while, ``MinJobAge``); a task Slurm no longer
  knows is judged by its log's last line; a task that neither reports is a failure;
- Ctrl-C (or any error while waiting) cancels the array with ``scancel``.

Environment: ``sbatch``, ``scontrol`` and ``scancel`` on the PATH; ``SLURM_CONF`` when the
cluster's config is not in its default place. Tasks start in the submitting directory with
its environment (``--export=ALL``), so the recipe's virtualenv must be on a shared file system.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from .progress import JobProgress

#: settings of a Slurm config file and their sbatch options
SETTINGS = {"partition": "--partition", "time": "--time", "mem": "--mem", "gpus": "--gpus-per-task",
            "cpus_per_task": "--cpus-per-task", "nodes": "--nodes"}
#: job states after which a task does not run again
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
         "BOOT_FAIL", "DEADLINE", "REVOKED"}
_ENDED = re.compile(r"^# Ended \(code (-?\d+)\)", re.M)


def load_config(path: str | None, overrides: dict | None = None) -> dict:
    """The Slurm settings: ``path`` (YAML; unknown keys are an error) updated by ``overrides``."""
    cfg = {"extra": [], "poll_seconds": 2.0}
    if path:
        import yaml
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"Slurm config {path} does not exist")
        data = yaml.safe_load(p.read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a Slurm config is a mapping of settings")
        unknown = sorted(set(data) - set(SETTINGS) - {"extra", "poll_seconds"})
        if unknown:
            raise ValueError(f"{path}: unknown Slurm settings {unknown}; known: {sorted(SETTINGS) + ['extra', 'poll_seconds']}")
        cfg.update({k: v for k, v in data.items() if v is not None})
    cfg.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if isinstance(cfg["extra"], str):
        cfg["extra"] = shlex.split(cfg["extra"])
    return cfg


def sbatch_options(cfg: dict) -> list[str]:
    """sbatch options of a config (``gpus: 0`` and unset settings add nothing)."""
    opts = [f"{flag}={cfg[k]}" for k, flag in SETTINGS.items() if cfg.get(k) not in (None, "", 0)]
    if cfg.get("nodes", 0) and int(cfg["nodes"]) > 1:
        opts.append("--ntasks-per-node=1")
    return opts + [str(x) for x in cfg.get("extra", [])]


def _task_script(cmd: str, log: Path, cwd: str) -> str:
    q = shlex.quote
    return f"""#!/usr/bin/env bash
# one task of a seslib job array (seslib.slurm)
cd {q(cwd)} || exit 1
{{ echo {q("# " + cmd)}; echo "# Started at $(date '+%Y-%m-%d %H:%M:%S') on $(hostname) (Slurm job ${{SLURM_ARRAY_JOB_ID:-?}}_${{SLURM_ARRAY_TASK_ID:-?}})"; echo "#"; }} > {q(str(log))}
t0=$(date +%s)
bash -c {q(cmd)} >> {q(str(log))} 2>&1 < /dev/null
rc=$?
{{ echo "# Accounting: time=$(( $(date +%s) - t0 )) s"; echo "# Ended (code $rc) at $(date '+%Y-%m-%d %H:%M:%S')"; }} >> {q(str(log))}
exit $rc
"""


def parse_tasks(scontrol_output: str) -> dict[int, tuple[str, int]]:
    """``scontrol -o show job`` lines of an array -> {task index: (state, exit code)} for the
    tasks that have a record of their own (pending tasks share one record, ``4-10%2``)."""
    out = {}
    for line in scontrol_output.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        task = fields.get("ArrayTaskId", "")
        if not task.isdigit():
            continue
        rc, _, sig = fields.get("ExitCode", "0:0").partition(":")
        code = int(rc) if rc.lstrip("-").isdigit() else 1
        if sig.isdigit() and int(sig):
            code = 128 + int(sig)
        out[int(task)] = (fields.get("JobState", "UNKNOWN"), code)
    return out


def log_exit_code(log: Path) -> int | None:
    """The exit code a task's wrapper wrote at the end of its log, or None."""
    try:
        found = _ENDED.findall(log.read_text(errors="replace")[-2000:])
    except OSError:
        return None
    return int(found[-1]) if found else None


class SlurmBackend:
    """Runs a launcher job range as one Slurm job array (see the module docstring).

    Args:
        config: YAML file of sbatch settings (or None: the cluster's defaults).
        overrides: settings that replace the config's (``gpus``, ``mem``, ``time``, ...).
    """

    def __init__(self, config: str | None = None, overrides: dict | None = None):
        self.cfg = load_config(config, overrides)
        for tool in ("sbatch", "scontrol", "scancel"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"the slurm backend needs {tool} on the PATH (Slurm client tools)")

    def run_array(self, jobs: dict, log_template: str, max_jobs_run: int | None, progress: bool) -> list[int]:
        first_log = jobs[min(jobs)][1]
        qdir = first_log.parent / "q"
        qdir.mkdir(parents=True, exist_ok=True)
        name = Path(log_template).name
        stem = re.sub(r"\.log$", "", re.sub(r"\.?JOB\.?", ".", name)).strip(".") or "job"
        cwd = os.getcwd()
        for j, (cmd, log) in jobs.items():
            log.parent.mkdir(parents=True, exist_ok=True)
            log.unlink(missing_ok=True)  # a log from an earlier run would look finished
            (qdir / f"{stem}.{j}.sh").write_text(_task_script(cmd, log.resolve(), cwd))
        lo, hi = min(jobs), max(jobs)
        array = f"{lo}-{hi}" + (f"%{max_jobs_run}" if max_jobs_run else "")
        wrapper = qdir / f"{stem}.array.sh"
        wrapper.write_text(f"#!/usr/bin/env bash\nexec bash {shlex.quote(str(qdir.resolve()))}/{stem}.$SLURM_ARRAY_TASK_ID.sh\n")
        cmd = ["sbatch", "--parsable", f"--array={array}", f"--job-name={stem}", "--export=ALL",
               f"--output={qdir.resolve()}/{stem}.%a.slurm.out", f"--chdir={cwd}", *sbatch_options(self.cfg),
               str(wrapper.resolve())]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"sbatch failed ({' '.join(cmd)}): {r.stderr.strip() or r.stdout.strip()}")
        job_id = r.stdout.strip().split(";")[0]
        meter = JobProgress(f"{log_template} (Slurm job {job_id})", len(jobs)) if progress else None
        try:
            return self._wait(job_id, jobs, meter)
        except BaseException:
            subprocess.run(["scancel", job_id], capture_output=True)
            raise

    def _wait(self, job_id: str, jobs: dict, meter) -> list[int]:
        final: dict[int, int] = {}
        poll = float(self.cfg.get("poll_seconds", 2.0))
        while len(final) < len(jobs):
            time.sleep(poll)
            r = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True)
            tasks = parse_tasks(r.stdout) if r.returncode == 0 else {}
            gone = r.returncode != 0 and "Invalid job id" in (r.stderr + r.stdout)
            running = {}
            for j, (_, log) in jobs.items():
                if j in final:
                    continue
                state, code = tasks.get(j, (None, None))
                if state in FINAL:
                    final[j] = code if state == "COMPLETED" or code else 1
                elif state == "RUNNING":
                    running[j] = (None, log, 0)
                elif gone:  # Slurm forgot the job (MinJobAge): the task's log says how it ended
                    code = log_exit_code(log)
                    final[j] = 1 if code is None else code
            if meter:
                meter.update(len(final), running)
        if meter and meter.tty:
            meter.update(len(final), {}, final=True)
        return sorted(j for j, code in final.items() if code != 0)
