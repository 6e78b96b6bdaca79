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
    assert "inputs or config changed, rebuilding" in out and "previous results moved aside" in out
    assert (tmp_path / "out" / "0.txt").read_text() == "file 0\n"  # rebuilt, nothing old kept
    (tmp_path / "in.txt").write_text("v2")
    assert _stage(tmp_path, config="b") == 0
    assert "rebuilding" in capsys.readouterr().out
    (tmp_path / "out" / "0.txt").write_text("stale")
    assert _stage(tmp_path, config="b", force=True) == 0
    assert "previous results moved aside" in capsys.readouterr().out
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


def _tree(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_failed_rebuild_restores_previous_results(tmp_path, capsys):
    """A rebuild that fails (forced, or after a change) leaves the previous results and their
    stamp byte for byte; the old config is still 'done'."""
    (tmp_path / "in.txt").write_text("v1")
    assert _stage(tmp_path) == 0
    before, stamp = _tree(tmp_path / "out"), (tmp_path / "stamps" / "demo.done").read_bytes()
    for kwargs in ({"config": "b"}, {"force": True}):
        rc = run_stage("demo", [sys.executable, "-c", "import os; os.makedirs('%s', exist_ok=True); "
                                "open('%s/0.txt', 'w').write('new'); raise SystemExit(2)"
                                % (tmp_path / "out", tmp_path / "out")],
                       inputs=[tmp_path / "in.txt"], outputs=[tmp_path / "out" / "5.txt"],
                       stamp_dir=tmp_path / "stamps", scratch=[tmp_path / "out"], **{"config": "a", **kwargs})
        out = capsys.readouterr().out
        assert rc == 2 and "previous results restored as they were" in out
        assert _tree(tmp_path / "out") == before
        assert (tmp_path / "stamps" / "demo.done").read_bytes() == stamp
        assert not list(tmp_path.glob(".*previous*")) and not list((tmp_path / "stamps").glob("*previous*"))
    assert _stage(tmp_path) == 0 and "skipped" in capsys.readouterr().out


def test_killed_rebuild_keeps_previous_until_resumed_rebuild_ends(tmp_path, capsys):
    (tmp_path / "in.txt").write_text("v1")
    assert _stage(tmp_path) == 0
    before = _tree(tmp_path / "out")
    (tmp_path / "writer.py").write_text(WRITER)
    cmd = [sys.executable, "-m", "seslib.stages", "--name", "demo", "--stamp-dir", str(tmp_path / "stamps"),
           "--inputs", str(tmp_path / "in.txt"), "--outputs", str(tmp_path / "out" / "5.txt"), "--config", "b",
           "--scratch", str(tmp_path / "out"), "--",
           sys.executable, str(tmp_path / "writer.py"), str(tmp_path / "out"), "0.3"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while not ((tmp_path / ".out.previous").exists() and (tmp_path / "out" / "1.txt").exists()) \
            and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _tree(tmp_path / ".out.previous") == before  # set aside, not deleted
    # the resumed rebuild fails: back to the last finished results
    rc = run_stage("demo", [sys.executable, "-c", "raise SystemExit(4)"], inputs=[tmp_path / "in.txt"],
                   config="b", stamp_dir=tmp_path / "stamps", scratch=[tmp_path / "out"])
    assert rc == 4 and _tree(tmp_path / "out") == before
    assert _stage(tmp_path) == 0 and "skipped" in capsys.readouterr().out


def test_damaged_outputs_rebuild_the_stage(tmp_path, capsys):
    (tmp_path / "in.txt").write_text("v1")
    assert _stage(tmp_path) == 0
    (tmp_path / "out" / "3.txt").write_text("file 3\n"[:4])  # truncated
    assert _stage(tmp_path) == 0
    out = capsys.readouterr().out
    assert "outputs damaged" in out and "3.txt has 4 bytes, 7 when written" in out and "rebuilding" in out
    assert (tmp_path / "out" / "3.txt").read_text() == "file 3\n"
    (tmp_path / "out" / "2.txt").write_text("file X\n")  # same size, other content
    assert _stage(tmp_path) == 0
    assert "2.txt changed since it was written" in capsys.readouterr().out
    assert _stage(tmp_path) == 0 and "skipped" in capsys.readouterr().out


def test_damaged_input_stops_the_next_stage_naming_its_writer(tmp_path, capsys):
    """A stage whose input was damaged after another stage wrote it stops before it removes
    anything, naming the file and the stage that rebuilds it."""
    (tmp_path / "in.txt").write_text("v1")
    assert _stage(tmp_path) == 0
    nxt = dict(inputs=[tmp_path / "out"], outputs=[tmp_path / "next" / "x"], stamp_dir=tmp_path / "stamps",
               scratch=[tmp_path / "next"])
    make = [sys.executable, "-c", f"import os; os.makedirs('{tmp_path}/next', exist_ok=True); "
            f"open('{tmp_path}/next/x', 'w').write('ok')"]
    assert run_stage("4_next", make, config="1", **nxt) == 0
    (tmp_path / "out" / "4.txt").write_text("")
    capsys.readouterr()
    assert run_stage("4_next", make, config="1", force=True, **nxt) == 1
    out = capsys.readouterr().out
    assert "FAILED before it started (nothing removed)" in out and "4.txt has 0 bytes" in out
    assert "written by stage demo" in out
    assert (tmp_path / "next" / "x").read_text() == "ok" and (tmp_path / "stamps" / "4_next.done").is_file()


def test_record_leaves_out_what_later_stages_write_inside(tmp_path):
    """A training dir holds the enhanced audio of a later stage: rebuilding that does not
    make the training stage look damaged."""
    exp = tmp_path / "exp"
    mk = lambda d, f: [sys.executable, "-c", f"import os; os.makedirs('{d}', exist_ok=True); open('{d}/{f}', 'w').write('1')"]
    kw = dict(stamp_dir=tmp_path / "stamps")
    assert run_stage("3_train", mk(exp, "best.pt0"), outputs=[exp / "best.pt0"], scratch=[exp], **kw) == 0
    assert run_stage("4_enh", mk(exp / "enh", "wav.scp"), inputs=[exp / "best.pt0"], scratch=[exp / "enh"],
                     outputs=[exp / "enh" / "wav.scp"], **kw) == 0
    assert run_stage("4_enh", mk(exp / "enh", "wav.scp"), inputs=[exp / "best.pt0"], scratch=[exp / "enh"],
                     outputs=[exp / "enh" / "wav.scp"], config="other", **kw) == 0
    (exp / "enh" / "wav.scp").write_text("22")
    assert run_stage("3_train", [sys.executable, "-c", "raise SystemExit(9)"], outputs=[exp / "best.pt0"],
                     scratch=[exp], **kw) == 0  # skipped: its own files are intact


def test_dry_run_says_what_would_run_and_runs_nothing(tmp_path, capsys):
    import json
    from seslib.stages import main
    (tmp_path / "in.txt").write_text("v1")
    args = ["--name", "s", "--stamp-dir", str(tmp_path / "stamps"), "--inputs", str(tmp_path / "in.txt"),
            "--config", "a", "--outputs", str(tmp_path / "o"), "--dry-run", "--", "touch", str(tmp_path / "o")]
    assert main(args) == 0
    rec = json.loads(capsys.readouterr().out.removeprefix("dry-run: "))
    assert rec["state"] == "to run" and rec["command"] == ["touch", str(tmp_path / "o")] and rec["config"] == "a"
    assert not (tmp_path / "o").exists() and not (tmp_path / "stamps").exists()
    assert main([a for a in args if a != "--dry-run"]) == 0 and (tmp_path / "o").is_file()
    capsys.readouterr()
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out.removeprefix("dry-run: "))["state"] == "done"
    (tmp_path / "in.txt").write_text("v2")  # an input changed: it would run again
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out.removeprefix("dry-run: "))["state"] == "to run"


def test_resumed_stage_whose_inputs_changed_starts_from_nothing(tmp_path, capsys):
    """Killed while making B, resumed with A: what B left is not taken as A's."""
    (tmp_path / "a.wav").write_bytes(b"A" * 100)
    (tmp_path / "in.scp").write_text(f"u1 {tmp_path / 'a.wav'}\n")
    out = tmp_path / "out"
    check = f"import os,sys; sys.exit(4 if os.path.exists({str(out / 'part')!r}) else 0)"
    kw = dict(inputs=[tmp_path / "in.scp"], stamp_dir=tmp_path / "stamps", scratch=[out])
    # the first run dies after writing part of its outputs
    assert run_stage("4_enh", [sys.executable, "-c", f"import os; os.makedirs({str(out)!r}); "
                               f"open({str(out / 'part')!r}, 'w').write('B'); raise SystemExit(9)"], **kw) == 9
    assert (out / "part").read_text() == "B"
    # same inputs: it resumes with what is there (the part stays)
    assert run_stage("4_enh", [sys.executable, "-c", "raise SystemExit(8)"], **kw) == 8 and (out / "part").exists()
    # other audio under the same scp (same ids, same paths, same length): starts from nothing
    (tmp_path / "a.wav").write_bytes(b"Z" * 100)
    os.utime(tmp_path / "a.wav", ns=(1, 1))
    capsys.readouterr()
    assert run_stage("4_enh", [sys.executable, "-c", check], **kw) == 0
    assert "inputs or config changed since the interrupted run: what it left is removed" in capsys.readouterr().out
    assert not (tmp_path / "stamps" / "4_enh.started.json").exists()


def test_audio_listed_by_an_scp_is_an_input(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"A" * 100)
    (tmp_path / "in.scp").write_text(f"u1 {tmp_path / 'a.wav'}\n")
    before = fingerprint([tmp_path / "in.scp"], "")
    (tmp_path / "a.wav").write_bytes(b"B" * 100)  # mixed again: same path, same size
    os.utime(tmp_path / "a.wav", ns=(5, 5))
    assert fingerprint([tmp_path / "in.scp"], "") != before
    assert fingerprint([tmp_path / "in.scp"], "", version=1) == fingerprint([tmp_path / "in.scp"], "", version=1)


def test_checkpoint_overwritten_at_the_same_size_is_damage(tmp_path):
    from seslib.stage_record import damaged_files, written_files
    import torch
    ck = tmp_path / "best.pt"
    torch.save({"w": torch.ones(100_000)}, ck)  # 400 KB: above the size every file is hashed at
    rec = written_files([ck])
    size = ck.stat().st_size
    assert damaged_files(rec) == []
    torch.save({"w": torch.full((100_000,), 2.0)}, ck)  # other weights, the same size
    assert ck.stat().st_size == size and damaged_files(rec) == [f"{ck} changed since it was written"]


def test_a_stage_never_writes_through_a_link_out_of_the_recipe(tmp_path, capsys):
    user = tmp_path / "user_data" / "train"
    user.mkdir(parents=True)
    (user / "wav.scp").write_text("mine\n")
    rec = tmp_path / "recipe"
    (rec / "data").mkdir(parents=True)
    (rec / "data" / "train").symlink_to(user)
    (rec / "exp_disk").mkdir()
    (rec / "exp").symlink_to(rec / "exp_disk")  # a top-level dir on another disk is fine
    cwd = os.getcwd()
    try:
        os.chdir(rec)
        rc = run_stage("1_mix", ["sh", "-c", "echo new > data/train/wav.scp"], outputs=["data/train/wav.scp"],
                       scratch=["data/train"], stamp_dir="exp/stages", root=rec)
        assert rc == 1 and "it would write outside the recipe dir" in capsys.readouterr().out
        assert (user / "wav.scp").read_text() == "mine\n" and (rec / "data" / "train").is_symlink()
        assert run_stage("3_train", ["sh", "-c", "mkdir -p exp/base && touch exp/base/best.pt"],
                         outputs=["exp/base/best.pt"], scratch=["exp/base"], stamp_dir="exp/stages", root=rec) == 0
    finally:
        os.chdir(cwd)


def test_dry_run_estimates_from_measured_times(tmp_path, capsys):
    import json
    from seslib.stages import main
    (tmp_path / "RESULTS.md").write_text("| stage | what | wall time | finished |\n|---|---|---|---|\n"
                                         "| 3_train_base | train base | 270 s | 2026-12-07 20:41:20 |\n"
                                         "| 5_score_base_test | score | 2.0 min | 2026-12-07 22:33:18 |\n")
    recs = tmp_path / "records.jsonl"
    for name in ("3_train_base", "5_score_base_test", "9_new"):
        assert main(["--name", name, "--stamp-dir", str(tmp_path / "stamps"), "--dry-run", "--records", str(recs),
                     "--times", str(tmp_path / "RESULTS.md"), "--", "true"]) == 0
    est = [json.loads(x)["estimate_s"] for x in recs.read_text().splitlines()]
    assert est == [270.0, 120.0, None]
    capsys.readouterr()
    assert main(["summary", "--records", str(recs), "--plan", "/tmp/p"]) == 0
    assert capsys.readouterr().out.strip() == (
        "dry run: 3 of 3 stages to run (0 done); about 0.11 h by measured times (0 from this recipe's stamps, "
        "2 from its RESULTS.md; 1 never measured, not counted); this dry run's plan: /tmp/p")
