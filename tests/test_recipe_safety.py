"""Nothing lost, nothing mislabelled: a recipe's outputs survive every failed rerun byte for byte.

One small recipe (made by egs/TEMPLATE/setup.sh, own data dirs, Base only, 2 training steps) is
trained, enhanced and scored once; then the ordinary mistakes are made on it: a typo'd config
value, an empty or misaligned test dir, a truncated checkpoint, two runs at once, ``--force``
while another run holds the recipe, and a run killed with its lock held.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml
import pytest

from conftest import ROOT, make_pairs, new_recipe

TINY_COMMON = """model: {channels: [4, 6, 8, 8, 8]}
train: {batch_size: 2, crop_seconds: 0.5, max_steps: 2, log_every: 1, valid_every: 2, ckpt_every: 2,
        valid_max_utts: 2, threads: 1}
data: {dynamic_mixing: false}
"""
OPTS = ["--modes", "base", "--pretraining", "", "--analysis", "false", "--train-seeds", "", "--peers", "",
        "--dnsmos-sets", "", "--nj", "1"]


def _tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and "log" not in p.relative_to(d).parts and p.suffix != ".log"}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety")
    rec = new_recipe(tmp)
    (rec / "conf" / "train_common.yaml").write_text(TINY_COMMON)
    rng = np.random.default_rng(5)
    dirs = {s: make_pairs(tmp / "own", s, n, rng) for s, n in (("train", 4), ("valid", 2), ("test", 2))}
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
               SESLIB_ROOT=str(ROOT))
    own = [a for s in ("train", "valid", "test") for a in (f"--{s}-dir", str(dirs[s]))]

    def run(*args, own_dirs=own, **kw):
        return subprocess.run(["./run.sh", *own_dirs, *OPTS, *args], cwd=rec, env=env, capture_output=True,
                              text=True, **kw)
    r = run()
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return rec, run, env, own, tmp


def _outputs(rec):
    return {"exp": _tree(rec / "exp" / "base"), "clean": _tree(rec / "exp" / "clean"),
            "results": (rec / "RESULTS.md").read_bytes()}


def test_first_run_names_its_configs_and_teacher(recipe):
    rec, *_ = recipe
    text = (rec / "RESULTS.md").read_text()
    assert "Training configs: exp/plan/train/<system>.yaml, layered from conf/train_common.yaml, " in text
    assert "teacher: whisper-tiny.en (the encoder of the bundled Whisper" in text  # offline default on a new corpus
    cfg = yaml.safe_load((rec / "exp" / "plan" / "train" / "base.yaml").read_text())
    assert cfg == yaml.safe_load((rec / "exp" / "base" / "config.yaml").read_text())  # what was trained


def test_typo_in_config_removes_nothing(recipe):
    rec, run, *_ = recipe
    before = _outputs(rec)
    conf = rec / "conf" / "train_base.yaml"  # the recipe's own layer over conf/modes/base.yaml
    try:
        for value, force, msg in (("fast", "false", "'fast' is not a number"),
                                  ("fast", "true", "'fast' is not a number"),
                                  ("[1e-3]", "true", "['1e-3'] is not a number")):
            conf.write_text(f"optim: {{lr: {value}}}\n")
            r = run("--stage", "3", "--force", force)
            assert r.returncode != 0, r.stderr[-2000:]
            assert f"seslib.recipe.plan: conf/train_base.yaml: optim.lr: {msg} (system 'base')" in r.stderr
            assert "removed" not in r.stdout and _outputs(rec) == before
    finally:
        conf.unlink()


def test_bad_test_dirs_leave_the_scores(recipe):
    rec, run, env, own, tmp = recipe
    before = _outputs(rec)
    empty = tmp / "empty"
    empty.mkdir()
    for f in ("wav.scp", "spk1.scp", "utt2spk", "spk2utt", "utt2num_samples", "text"):
        (empty / f).write_text("")
    misaligned = tmp / "misaligned"
    shutil.copytree(Path(own[-1]), misaligned)
    first = (misaligned / "spk1.scp").read_text().split("\n")[0].split()[1]
    import soundfile as sf
    x, sr = sf.read(first)
    sf.write(str(tmp / "short.wav"), x[:-320], sr)
    (misaligned / "spk1.scp").write_text((misaligned / "spk1.scp").read_text().replace(first, str(tmp / "short.wav")))
    for bad, msg in ((empty, "no utterances"), (misaligned, "utt2num_samples says")):
        r = run("--stage", "4", own_dirs=own[:-1] + [str(bad)])
        assert r.returncode == 1 and f"--test-dir {bad} is not a valid data dir" in r.stderr and msg in r.stderr
        assert _outputs(rec) == before and (rec / "data" / "test").resolve() == Path(own[-1]).resolve()


def test_truncated_checkpoint_is_named_then_rebuilt(recipe):
    rec, run, *_ = recipe
    before = _outputs(rec)
    best = rec / "exp" / "base" / "best.pt"
    size = best.stat().st_size
    best.write_bytes(best.read_bytes()[:size // 2])
    damaged = _outputs(rec)
    r = run("--stage", "4", "--stop-stage", "5")
    assert r.returncode == 1, r.stdout[-2000:]
    assert f"exp/base/best.pt has {size // 2} bytes, {size} when written: written by stage 3_train_base" in r.stdout
    assert "run.sh --stage 3 --stop-stage 3" in r.stdout and "nothing removed" in r.stdout
    assert _outputs(rec) == damaged  # enhanced audio and scores untouched
    r = run("--stage", "3", "--stop-stage", "5")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "outputs damaged: exp/base/best.pt has" in r.stdout
    after = _outputs(rec)
    assert after["exp"].keys() == before["exp"].keys() and len(after["exp"]["best.pt"]) == size


def test_weights_overwritten_at_the_same_size_are_named(recipe):
    rec, run, *_ = recipe
    best = rec / "exp" / "base" / "best.pt"
    original = best.read_bytes()
    mid = len(original) // 2  # inside the stored (uncompressed) weights: the zip directory still opens
    best.write_bytes(original[:mid] + bytes(255 - b for b in original[mid:mid + 4096]) + original[mid + 4096:])
    assert best.stat().st_size == len(original)  # was: not detected (only files up to 64 KiB were hashed)
    try:
        damaged = _outputs(rec)
        r = run("--stage", "4", "--stop-stage", "5")
        assert r.returncode == 1
        assert "exp/base/best.pt changed since it was written: written by stage 3_train_base" in r.stdout
        assert _outputs(rec) == damaged
    finally:
        best.write_bytes(original)


def test_results_refuse_scores_of_another_test_set(recipe):
    """--stage 7 alone after the test set changed: was a table of the old scores under the new header."""
    rec, run, env, own, tmp = recipe
    before = _outputs(rec)
    other = tmp / "other_test"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(Path(own[-1]), other)
    import soundfile as sf
    for scp in ("wav.scp", "spk1.scp"):  # same ids and lengths, other audio, in files of its own
        lines = []
        for line in (other / scp).read_text().splitlines():
            u, p = line.split()
            x, sr = sf.read(p)
            sf.write(str(other / f"{u}_{scp}.wav"), np.roll(x, 1000), sr)
            lines.append(f"{u} {other / f'{u}_{scp}.wav'}")
        (other / scp).write_text("\n".join(lines) + "\n")
    user = _tree(Path(own[-1]))
    r = run("--stage", "7", own_dirs=own[:-1] + [str(other)])
    assert r.returncode == 1, r.stdout[-2000:]
    assert "RESULTS.md not written: scores made from other audio than the plan's" in r.stderr
    assert "exp/base/score_test: it was scored from other audio than exp/base/enhanced_test/wav.scp and data/test " \
           "hold now; run stages 4-7 again (run.sh --stage 4 --stop-stage 7" in r.stderr
    assert "exp/clean/score_test" in r.stderr and "run stages 5-7 again" in r.stderr
    assert _outputs(rec) == before and _tree(Path(own[-1])) == user
    r = run("--stage", "7")  # the test set of the scores again: written
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def _wait_for_lock(rec, proc, timeout=60):
    info = rec / "exp" / "run.lock.info"
    deadline = time.time() + timeout
    while not (info.is_file() and "pid " in info.read_text()) and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    return info.read_text()


def test_one_run_per_recipe_dir(recipe):
    rec, run, env, own, _ = recipe
    first = subprocess.Popen(["./run.sh", *own, *OPTS, "--stage", "3", "--stop-stage", "5", "--force", "true"],
                             cwd=rec, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    holder = _wait_for_lock(rec, first)
    for args in (["--stage", "7"], ["--stage", "3", "--force", "true"]):
        r = run(*args)
        assert r.returncode == 1 and "another run is using this recipe dir" in r.stderr
        assert holder.strip() in r.stderr and "--force true" in r.stderr  # the holder's pid and command
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out[-3000:] + err[-3000:]
    assert "another run" not in out + err and not (rec / "exp" / "run.lock.info").exists()


def test_lock_of_a_killed_run_is_taken_over(recipe):
    rec, run, env, own, _ = recipe
    before = _outputs(rec)
    killed = subprocess.Popen(["./run.sh", *own, *OPTS, "--stage", "4", "--stop-stage", "5", "--force", "true"],
                              cwd=rec, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    _wait_for_lock(rec, killed)
    time.sleep(1.0)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    r = run("--stage", "4", "--stop-stage", "5")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"taking over the lock of a run that ended without releasing it: pid {killed.pid}," in r.stderr
    assert not list((rec / "exp" / "base").glob(".*.previous")) and not list((rec / "exp").glob("*/.*.previous"))
    assert _outputs(rec)["exp"].keys() == before["exp"].keys()
