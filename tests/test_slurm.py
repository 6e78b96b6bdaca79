"""The launcher's Slurm backend against a real slurmctld/slurmd started here (tests/slurm_cluster.py)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seslib.slurm import load_config, parse_tasks, sbatch_options

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    import slurm_cluster
    try:
        cluster = slurm_cluster.start(tmp_path_factory.mktemp("slurm"))
    except slurm_cluster.Unavailable as exc:
        print(f"Slurm tests skipped: {exc}", file=sys.stderr)
        pytest.skip(f"no Slurm cluster could be started here: {exc}")
    yield cluster
    cluster.stop()


def _launch(args, env, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "seslib.launcher", "--backend", "slurm", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, **kw)


def _env(slurm, env):
    return dict(os.environ, **env, **slurm.env)


def test_config_and_scontrol_parsing(tmp_path):
    """Settings become sbatch options; per-task records of scontrol give states and exit codes."""
    conf = tmp_path / "slurm.yaml"
    conf.write_text("partition: gpu\ntime: '4:00:00'\nmem: 8G\ngpus: 0\nextra: ['--account=proj']\n")
    cfg = load_config(str(conf), {"gpus": 2, "nodes": 2})
    assert sbatch_options(cfg) == ["--partition=gpu", "--time=4:00:00", "--mem=8G", "--gpus-per-task=2",
                                   "--nodes=2", "--ntasks-per-node=1", "--account=proj"]
    conf.write_text("partiton: gpu\n")
    with pytest.raises(ValueError, match="unknown Slurm settings"):
        load_config(str(conf))
    out = ("JobId=7 ArrayJobId=5 ArrayTaskId=2 JobState=FAILED ExitCode=3:0\n"
           "JobId=6 ArrayJobId=5 ArrayTaskId=1 JobState=COMPLETED ExitCode=0:0\n"
           "JobId=8 ArrayJobId=5 ArrayTaskId=3 JobState=CANCELLED ExitCode=0:15\n"
           "JobId=5 ArrayJobId=5 ArrayTaskId=4-9%2 JobState=PENDING ExitCode=0:0\n")
    assert parse_tasks(out) == {2: ("FAILED", 3), 1: ("COMPLETED", 0), 3: ("CANCELLED", 143)}


def test_job_array_logs_failures_and_throttle(slurm, tmp_path, env):
    e = _env(slurm, env)
    r = _launch(["--max-jobs-run", "2", "JOB=1:4", "log/t.JOB.log", "echo task JOB on $SLURM_ARRAY_TASK_ID"],
                e, tmp_path)
    assert r.returncode == 0, r.stderr
    for j in range(1, 5):  # the logs sit where the local backend puts them, with its header and footer
        text = (tmp_path / "log" / f"t.{j}.log").read_text()
        assert f"task {j} on {j}" in text and text.startswith(f"# echo task {j}") and "# Ended (code 0)" in text
    jid = next(ln for ln in (tmp_path / "log" / "t.1.log").read_text().splitlines() if "Slurm job" in ln)
    assert "_1)" in jid
    # the throttle reached Slurm as the array's %K
    array_job = jid.split("Slurm job ")[1].split("_")[0]
    show = subprocess.run(["scontrol", "-o", "show", "job", array_job], env=e, capture_output=True, text=True).stdout
    assert "ArrayTaskThrottle=2" in show
    r = _launch(["JOB=1:3", "log/f.JOB.log", "echo JOB; [ JOB -ne 2 ] || exit 7"], e, tmp_path)
    assert r.returncode == 1
    assert "1 of 3 jobs failed (JOB=2); see log/f.2.log" in r.stderr
    assert "# Ended (code 7)" in (tmp_path / "log" / "f.2.log").read_text()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_cancels_the_array(slurm, tmp_path, env, sig):
    """Ctrl-C (SIGINT) or a kill (SIGTERM) of the launcher cancels the array, exit status 130."""
    e = _env(slurm, env)
    # SIGINT back to its default in the child: a shell's background job (nohup ... &) ignores it
    p = subprocess.Popen([sys.executable, "-m", "seslib.launcher", "--backend", "slurm", "JOB=1:2", "log/s.JOB.log",
                          "sleep 300"], cwd=tmp_path, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = tmp_path / "log" / "s.1.log"
    t0 = time.time()
    while not (log.is_file() and "Slurm job" in log.read_text()) and time.time() - t0 < 60:
        time.sleep(0.2)
    job = log.read_text().split("Slurm job ")[1].split("_")[0]
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "interrupted" in err
    t0 = time.time()
    while time.time() - t0 < 30:
        show = subprocess.run(["scontrol", "-o", "show", "job", job], env=e, capture_output=True, text=True).stdout
        if show and all("JobState=CANCELLED" in ln for ln in show.splitlines()):
            break
        time.sleep(0.5)
    assert show and all("JobState=CANCELLED" in ln for ln in show.splitlines()), show


def test_recipe_data_stages_through_slurm(slurm, tmp_path, env):
    """Stages 0-1 of the tiny recipe with cmd.sh pointed at Slurm: the mixing jobs run as arrays."""
    from conftest import copy_recipe
    rec = copy_recipe(tmp_path / "r")
    (rec / "cmd.sh").write_text('export SESLIB_LAUNCH="--backend slurm --slurm-config $SESLIB_ROOT/conf/slurm.yaml"\n'
                                'export train_cmd="utils/launch.sh $SESLIB_LAUNCH"\n'
                                'export decode_cmd="utils/launch.sh $SESLIB_LAUNCH"\n')
    r = subprocess.run(["./run.sh", "--mini-conf", "conf/data_mini_tiny.yaml", "--stage", "0", "--stop-stage", "1",
                        "--test-snrs", "", "--nj", "2"], cwd=rec, env=_env(slurm, env), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    for d in ("train", "valid", "test"):
        log = (rec / "data" / d / "log" / "mix.1.log").read_text()
        assert "Slurm job" in log and "# Ended (code 0)" in log
        assert (rec / "data" / d / "wav.scp").is_file()


def test_ddp_training_step_via_srun(slurm, tmp_path, env, corpus):
    """A 2-process DDP training (torchrun in a Slurm job through utils/slurm_torchrun.sh)."""
    e = _env(slurm, env)
    out = tmp_path / "exp"
    port = str(__import__("slurm_cluster")._free_port())
    cmd = (f"{ROOT}/utils/slurm_torchrun.sh --nproc-per-node 2 --port {port} -m seslib.bin.train "
           f"--train-dir {corpus / 'train'} --valid-dir {corpus / 'valid'} --out {out} --set model.channels=[4,6,8,8,8] "
           "train.batch_size=2 train.crop_seconds=0.5 train.max_steps=2 train.valid_every=2 train.ckpt_every=2 "
           "train.valid_max_utts=2 train.threads=1")
    r = _launch(["--cpus-per-task", "2", str(tmp_path / "train.log"), cmd], e, tmp_path)
    log = (tmp_path / "train.log").read_text()
    assert r.returncode == 0, log[-3000:]
    assert "2 process(es)" in (out / "train.log").read_text() and "rendezvous localhost:" in log
    assert (out / "best.pt").is_file()
