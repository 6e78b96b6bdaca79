"""The Kaldi-style launcher: per-job logs, JOB substitution, failure propagation."""
import subprocess
import sys

from conftest import ROOT


def _launch(args, env, cwd):
    return subprocess.run([str(ROOT / "utils" / "launch.sh"), *args], env=env, cwd=cwd,
                          capture_output=True, text=True)


def test_jobs_run_with_their_own_logs(tmp_path, env):
    r = _launch(["JOB=1:3", "log/echo.JOB.log", "echo", "job", "JOB", "of", "3"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    for j in (1, 2, 3):
        log = (tmp_path / "log" / f"echo.{j}.log").read_text()
        assert f"job {j} of 3" in log and "Ended (code 0)" in log and log.startswith("# echo job")


def test_failure_names_failed_jobs(tmp_path, env):
    r = _launch(["JOB=1:4", "log/f.JOB.log", "test JOB -ne 2 && test JOB -ne 4"], env, tmp_path)
    assert r.returncode == 1
    assert "2 of 4 jobs failed (JOB=2,4)" in r.stderr
    assert "log/f.2.log" in r.stderr
    assert "Ended (code 1)" in (tmp_path / "log" / "f.4.log").read_text()
    assert "Ended (code 0)" in (tmp_path / "log" / "f.3.log").read_text()


def test_single_job_and_usage_errors(tmp_path, env):
    r = _launch(["one.log", "python", "-c", "print('hello there')"], env, tmp_path)
    assert r.returncode == 0 and "hello there" in (tmp_path / "one.log").read_text()
    r = _launch(["JOB=1:2", "shared.log", "true"], env, tmp_path)
    assert r.returncode != 0 and "must contain JOB" in r.stderr
    r = _launch(["JOB=3:1", "x.JOB.log", "true"], env, tmp_path)
    assert r.returncode != 0 and "empty job range" in r.stderr


def test_max_jobs_run_limits_concurrency(tmp_path, env):
    # each job appends start/end marks; with one slot they must not interleave
    cmd = "echo s >> marks; sleep 0.2; echo e >> marks"
    r = _launch(["--max-jobs-run", "1", "JOB=1:3", "l.JOB.log", cmd], env, tmp_path)
    assert r.returncode == 0
    assert (tmp_path / "marks").read_text().split() == ["s", "e"] * 3


def test_progress_is_read_from_job_logs(tmp_path):
    from seslib.progress import job_progress
    p = tmp_path / "x.log"
    p.write_text("start\rtts job 1:  10%|#   | 4/40 [00:01<00:09]\rtts job 1:  45%|####  | 18/40 [00:05<00:06]")
    assert job_progress(p) == "45% 18/40"


def test_sigterm_stops_running_jobs(tmp_path, env):
    """A killed launcher (SIGTERM) stops its running jobs, says so in their logs and exits 130."""
    import os
    import signal
    import time
    p = subprocess.Popen([sys.executable, "-m", "seslib.launcher", "JOB=1:2", "log/s.JOB.log",
                          "echo started; sleep 300; echo not reached"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    logs = [tmp_path / "log" / f"s.{j}.log" for j in (1, 2)]
    t0 = time.time()
    while not all(f.is_file() and "started" in f.read_text() for f in logs) and time.time() - t0 < 30:
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130 and "interrupted" in err
    for f in logs:
        assert "# Ended (interrupted)" in f.read_text()
    sleeps = subprocess.run(["pgrep", "-f", "sleep 300"], capture_output=True, text=True).stdout.split()
    assert not [pid for pid in sleeps if os.path.exists(f"/proc/{pid}/cwd") and
                os.path.realpath(f"/proc/{pid}/cwd") == str(tmp_path.resolve())]


def test_failed_job_error_is_printed_on_the_console(tmp_path, env):
    r = _launch(["JOB=1:2", "log/e.JOB.log", "test JOB -eq 1 || python -c \"raise SystemExit('bad input x.wav')\""],
                env, tmp_path)
    assert r.returncode == 1 and "the end of log/e.2.log:" in r.stderr and "bad input x.wav" in r.stderr


def test_an_interrupt_waits_until_a_started_job_is_recorded():
    """The race behind a job left running after SIGTERM: the signal arrives after the job's process
    started but before the launcher records it. Inside signals_deferred the interrupt waits and is
    raised at the block's end, to the handler that was in place."""
    import os
    import signal
    import time

    import pytest

    from seslib import launcher
    old = signal.signal(signal.SIGTERM, launcher._interrupt)
    try:
        recorded = []
        with pytest.raises(KeyboardInterrupt, match="signal 15"):
            with launcher.signals_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # a handler that raised would have done so by now
                recorded.append("job")
        assert recorded == ["job"]
        assert signal.getsignal(signal.SIGTERM) is launcher._interrupt
    finally:
        signal.signal(signal.SIGTERM, old)
