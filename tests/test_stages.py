"""Stage runner: skip when done, rerun on change, --force, resume after a kill."""
import os
import signal
import subprocess
import sys
import time

from seslib.stages import fingerprint, run_stage

# a stage command that writes 6 files one by one (atomically), sleeping between them,
# and skips files that exist: the pattern every stage follows
WRITER = """
import os, sys, time
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for i in range(6):
    p = os.path.join(out, f"{i}.txt")
    if os.path.exists(p):
        continue
    tmp = p + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"file {i}\\n")
    time.sleep(float(sys.argv[2]))
    os.replace(tmp, p)
with open(os.path.join(out, "runs.log"), "a") as f:
    f.write("completed\\n")
"""


def _stage(tmp_path, config="a", force=False, delay="0"):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return run_stage("demo", [sys.executable, str(script), str(tmp_path / "out"), delay],
                     inputs=[tmp_path / "in.txt"], outputs=[tmp_path / "out" / "5.txt"],
                     config=config, stamp_dir=tmp_path / "stamps", force=force, title="demo stage",
                     scratch=[tmp_path / "out"])


def test_skip_rerun_force(tmp_path, capsys):
    (tmp_path / "in.txt").write_text("v1")
    assert _stage(tmp_path) == 0
    assert "finished in" in capsys.readouterr().out
    assert _stage(tmp_path) == 0
    assert "inputs and config unchanged: skipped" in capsys.readouterr().out
    (tmp_path / "out" / "0.txt").write_text("stale")
    assert _stage(tmp_path, config="b") == 0
    out = capsys.readouterr().out
    assert "inputs or config changed, rebuilding" in out and "to rebuild from scratch" in out
    assert (tmp_path / "out" / "0.txt").read_text() == "file 0\n"  # rebuilt, nothing old kept
    (tmp_path / "in.txt").write_text("v2")
    assert _stage(tmp_path, config="b") == 0
    assert "rebuilding" in capsys.readouterr().out
    (tmp_path / "out" / "0.txt").write_text("stale")
    assert _stage(tmp_path, config="b", force=True) == 0
    assert "to rebuild from scratch" in capsys.readouterr().out
    assert (tmp_path / "out" / "0.txt").read_text() == "file 0\n"  # rebuilt, not resumed
    assert (tmp_path / "out" / "runs.log").read_text() == "completed\n"
    (tmp_path / "out" / "5.txt").unlink()
    assert _stage(tmp_path, config="b") == 0
    assert "outputs missing" in capsys.readouterr().out
    assert (tmp_path / "out" / "5.txt").is_file()


def test_failed_command_leaves_no_stamp(tmp_path, capsys):
    rc = run_stage("bad", [sys.executable, "-c", "raise SystemExit(3)"], stamp_dir=tmp_path / "s")
    assert rc == 3 and not (tmp_path / "s" / "bad.done").exists()
    assert "FAILED with exit code 3" in capsys.readouterr().out


def test_killed_stage_resumes(tmp_path):
    (tmp_path / "in.txt").write_text("v1")
    (tmp_path / "writer.py").write_text(WRITER)
    cmd = [sys.executable, "-m", "seslib.stages", "--name", "demo", "--stamp-dir", str(tmp_path / "stamps"),
           "--inputs", str(tmp_path / "in.txt"), "--outputs", str(tmp_path / "out" / "5.txt"), "--",
           sys.executable, str(tmp_path / "writer.py"), str(tmp_path / "out"), "0.3"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while not (tmp_path / "out" / "1.txt").exists() and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = sorted(p.name for p in (tmp_path / "out").glob("*.txt"))
    assert "5.txt" not in done_before and not (tmp_path / "stamps" / "demo.done").exists()
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0 and "finished in" in r.stdout
    assert sorted(p.name for p in (tmp_path / "out").glob("*.txt")) == [f"{i}.txt" for i in range(6)]
    assert all(p.read_text() == f"file {p.stem}\n" for p in (tmp_path / "out").glob("*.txt"))
    assert (tmp_path / "out" / "runs.log").read_text() == "completed\n"
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert "skipped" in r.stdout


def test_fingerprint_tracks_content_and_ignores_hidden(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "a").write_text("1")
    f1 = fingerprint([d], "c")
    (d / ".hidden").write_text("x")
    (d / "log").mkdir()
    (d / "log" / "job.1.log").write_text("anything")
    assert fingerprint([d], "c") == f1
    (d / "a").write_text("2")
    assert fingerprint([d], "c") != f1
    assert fingerprint([tmp_path / "nothing"], "c") != fingerprint([], "c")
