"""Training: losses, exact resume (in-process and after a kill), DDP with gloo on CPU."""
import subprocess
import sys

import pytest
import torch
from conftest import kill_at_first_checkpoint

from seslib.bin import train
from seslib.checkpoint import load_model
from seslib.losses import si_sdr
from seslib.train.trainer import Trainer

TINY = ["model.channels=[4,6,8,8,8]", "train.batch_size=2", "train.crop_seconds=0.5", "train.log_every=1",
        "train.valid_every=2", "train.ckpt_every=2", "train.valid_max_utts=2", "train.threads=1"]


def _cfg(*sets):
    return train.load_config(None, list(TINY) + list(sets))


def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a) and a.keys() == b.keys()


def test_si_sdr_matches_equation_1():
    torch.manual_seed(0)
    y = torch.randn(2, 1000)
    assert (si_sdr(3.0 * y, y) > 60).all()  # a scaled copy of the reference: no distortion
    e = y + 0.1 * torch.randn(2, 1000)
    alpha = (e * y).sum(-1, keepdim=True) / (y * y).sum(-1, keepdim=True)
    ref = 10 * torch.log10((alpha * y).pow(2).sum(-1) / (alpha * y - e).pow(2).sum(-1))
    assert torch.allclose(si_sdr(e, y), ref, atol=1e-4)


def test_resume_gives_the_same_weights(dirs, tmp_path):
    tr, va = dirs
    Trainer(_cfg("train.max_steps=4"), tr, va, tmp_path / "straight").train()
    Trainer(_cfg("train.max_steps=2"), tr, va, tmp_path / "split").train()
    r = Trainer(_cfg("train.max_steps=4"), tr, va, tmp_path / "split").train()
    assert r["step"] == 4
    a, b = _weights(tmp_path / "straight" / "last.pt"), _weights(tmp_path / "split" / "last.pt")
    assert _same(a, b)
    log = (tmp_path / "split" / "train.log").read_text()
    assert "resumed from" in log and "valid SI-SDR" in log


def test_killed_training_resumes_to_the_same_weights(dirs, tmp_path, env):
    tr, va = dirs
    base = [sys.executable, "-m", "seslib.bin.train", "--train-dir", str(tr), "--valid-dir", str(va), "--set",
            *TINY, "train.max_steps=8"]
    ref = subprocess.run(base + ["--out", str(tmp_path / "ref")], env=env, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    out = tmp_path / "killed"
    kill_at_first_checkpoint(base + ["--out", str(out)], out, env)
    step_at_kill = torch.load(out / "last.pt", weights_only=False)["step"]
    assert step_at_kill < 8
    r = subprocess.run(base + ["--out", str(out)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resumed from" in (out / "train.log").read_text()
    assert _same(_weights(tmp_path / "ref" / "last.pt"), _weights(out / "last.pt"))
    assert (out / "config.yaml").is_file()
    m = load_model(out / "best.pt")  # self-describing: no config needed
    assert m.config["channels"] == [4, 6, 8, 8, 8]


def test_ddp_two_processes_gloo(dirs, tmp_path, env):
    tr, va = dirs
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "seslib.bin.train", "--train-dir", str(tr), "--valid-dir", str(va), "--out", str(out),
           "--set", *TINY, "train.max_steps=3"]
    r = subprocess.run(cmd, env=dict(env, OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    log = (out / "train.log").read_text()
    assert "2 process(es)" in log and "step 3/3" in log
    ck = torch.load(out / "last.pt", weights_only=False)
    assert ck["step"] == 3 and all(torch.isfinite(v).all() for v in ck["model"].values())


def test_resume_recomputes_the_learning_rate_of_a_changed_schedule(dirs, tmp_path):
    tr, va = dirs
    Trainer(_cfg("train.max_steps=2", "scheduler={name: cosine, min_factor: 0.0}"), tr, va, tmp_path / "c").train()
    t = Trainer(_cfg("train.max_steps=8", "scheduler={name: cosine, min_factor: 0.0}"), tr, va, tmp_path / "c")
    t.resume(tmp_path / "c" / "last.pt")
    # the saved lr was the end of a 2-step cosine (0); at step 2 of 8 it is well above 0
    assert t.opt.param_groups[0]["lr"] > 5e-4


def test_config_errors():
    with pytest.raises(ValueError, match="unknown config key 'train.bogus'"):
        train.load_config(None, ["train.bogus=1"])
    with pytest.raises(ValueError, match="unknown training mode 'nope'"):
        from seslib.modes import get_mode
        get_mode("nope")


def test_config_include_merges_the_shared_file_first(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "common.yaml").write_text("train: {max_steps: 7, batch_size: 4}\n"
                                          "data: {dynamic_mixing: true}\naugment: {speed: {prob: 0.5}}\n")
    (tmp_path / "sub" / "a.yaml").write_text("include: ../common.yaml\nmode: triplet\ntrain: {max_steps: 9}\n")
    cfg = train.load_config(tmp_path / "sub" / "a.yaml", ["train.seed=3"])
    assert cfg["mode"] == "triplet" and cfg["train"]["max_steps"] == 9 and cfg["train"]["batch_size"] == 4
    assert cfg["train"]["seed"] == 3 and cfg["data"]["dynamic_mixing"] is True
    assert cfg["augment"] == {"speed": {"prob": 0.5}}
    # augment: null turns every augmentation off; nested augment keys merge
    (tmp_path / "b.yaml").write_text("include: common.yaml\naugment: null\n")
    assert train.load_config(tmp_path / "b.yaml")["augment"] == {}
    (tmp_path / "c.yaml").write_text("include: common.yaml\naugment: {speed: {range: [0.9, 1.0]}, colour: {prob: 1}}\n")
    assert train.load_config(tmp_path / "c.yaml")["augment"] == {"speed": {"prob": 0.5, "range": [0.9, 1.0]},
                                                                  "colour": {"prob": 1}}
    (tmp_path / "loop.yaml").write_text("include: loop.yaml\n")
    with pytest.raises(ValueError, match="includes itself"):
        train.load_config(tmp_path / "loop.yaml")


def test_changed_config_after_a_kill_restarts_and_says_why(dirs, tmp_path):
    """A rerun whose config differs from the checkpoint's in a key that changes what is learned
    restarts from step 0 (the model is then exactly a fresh run of the new config); the old
    files are kept aside, and the log lists the changed keys."""
    tr, va = dirs
    Trainer(_cfg("train.max_steps=2"), tr, va, tmp_path / "x").train()  # "killed" at step 2, lr 1e-3
    Trainer(_cfg("train.max_steps=4", "optim.lr=5e-4"), tr, va, tmp_path / "x").train()
    log = (tmp_path / "x" / "train.log").read_text()
    assert "restarting from step 0" in log and "optim.lr: 0.001 -> 0.0005" in log and "resumed from" not in log
    ck = torch.load(tmp_path / "x" / "last.pt", weights_only=False)
    assert ck["config"]["optim"]["lr"] == 5e-4 and ck["step"] == 4
    assert ck["optimizer"]["param_groups"][0]["lr"] == 5e-4
    Trainer(_cfg("train.max_steps=4", "optim.lr=5e-4"), tr, va, tmp_path / "fresh").train()
    assert _same(_weights(tmp_path / "x" / "last.pt"), _weights(tmp_path / "fresh" / "last.pt"))
    kept = list((tmp_path / "x" / ".superseded").glob("*/last.pt"))
    assert len(kept) == 1 and torch.load(kept[0], weights_only=False)["step"] == 2


def test_safe_config_changes_resume_and_are_logged(dirs, tmp_path):
    tr, va = dirs
    Trainer(_cfg("train.max_steps=2"), tr, va, tmp_path / "x").train()
    Trainer(_cfg("train.max_steps=4", "train.log_every=2"), tr, va, tmp_path / "x").train()
    log = (tmp_path / "x" / "train.log").read_text()
    assert "resumed from" in log and "restarting" not in log
    assert "safe to change mid-run: train.log_every: 1 -> 2" in log and "train.max_steps: 2 -> 4" in log
    # fewer steps than were trained, or a cosine schedule (whose lr depends on max_steps): not safe
    from seslib.checkpoint import config_changes
    old = _cfg("train.max_steps=4")
    assert config_changes(old, _cfg("train.max_steps=2"), 4)[1] == ["train.max_steps: 4 -> 2"]
    cos = _cfg("train.max_steps=4", "scheduler={name: cosine}")
    assert config_changes(cos, _cfg("train.max_steps=8", "scheduler={name: cosine}"), 4)[1] == \
        ["train.max_steps: 4 -> 8"]


def test_damaged_checkpoint_is_named(dirs, tmp_path):
    tr, va = dirs
    Trainer(_cfg("train.max_steps=2"), tr, va, tmp_path / "x").train()
    p = tmp_path / "x" / "last.pt"
    p.write_bytes(p.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"checkpoint .*last.pt is damaged and does not load"):
        load_model(p)
    # a killed run whose last.pt does not load restarts from step 0, saying why; the file is kept
    assert Trainer(_cfg("train.max_steps=2"), tr, va, tmp_path / "x").train()["step"] == 2
    log = (tmp_path / "x" / "train.log").read_text()
    assert "restarting from step 0" in log and "last.pt is damaged and does not load" in log
    assert [f.stat().st_size for f in (tmp_path / "x" / ".superseded").glob("*/last.pt")] == [1000]
