"""Offline wav2vec 2.0 pre-training: real objective, finite losses, exact resume, loadable result."""
import copy

import torch

from seslib.bin import mix_data
from seslib.teacher import Teacher
from seslib.train.teacher_pretrain import DEFAULTS, TeacherPretrainer, gumbel_temperature

TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
        "conv_dim": [16] * 7, "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4,
        "num_codevectors_per_group": 16, "codevector_dim": 16, "proj_codevector_dim": 16, "num_negatives": 5,
        "mask_time_length": 4, "hidden_dropout": 0.0, "attention_dropout": 0.0}


def _cfg(steps):
    cfg = copy.deepcopy(DEFAULTS)
    cfg["model"].update(TINY)
    cfg["train"].update(batch_size=2, crop_seconds=1.0, max_steps=steps, log_every=1, ckpt_every=2,
                        warmup_steps=1, threads=1)
    return cfg


def test_pretrain_resume_and_load(source_dir, tmp_path):
    data = tmp_path / "d"
    assert mix_data.main(["all", "--sources", str(source_dir), "--out", str(data), "--tag", "t", "--quiet"]) == 0
    r = TeacherPretrainer(_cfg(4), data, tmp_path / "a").train()
    assert r["step"] == 4
    log = (tmp_path / "a" / "train.log").read_text()
    assert "perplexity" in log and "contrastive" in log and "nan" not in log
    assert TeacherPretrainer(_cfg(4), data, tmp_path / "b").train(stop_at=2)["step"] == 2  # "killed"
    assert not (tmp_path / "b" / "teacher").exists()
    TeacherPretrainer(_cfg(4), data, tmp_path / "b").train()
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)  # resumed == uninterrupted
    # "killed" at step 2, rerun with another learning rate: restarted, equal to a fresh run of that config
    TeacherPretrainer(_cfg(4), data, tmp_path / "c").train(stop_at=2)
    lr = _cfg(4)
    lr["train"]["lr"] = 1e-4
    TeacherPretrainer(lr, data, tmp_path / "c").train()
    TeacherPretrainer(lr, data, tmp_path / "d").train()
    assert "restarting from step 0" in (tmp_path / "c" / "train.log").read_text()
    c = torch.load(tmp_path / "c" / "last.pt", weights_only=False)["model"]
    d = torch.load(tmp_path / "d" / "last.pt", weights_only=False)["model"]
    assert all(torch.equal(c[k], d[k]) for k in c) and not all(torch.equal(a[k], c[k]) for k in a)
    t = Teacher(str(tmp_path / "a" / "teacher"), layers="all")  # loads like a hub model
    with torch.no_grad():
        assert t(torch.randn(1, 16000)).shape == (1, 3, 50, 32)


def test_gumbel_schedule():
    cfg = _cfg(10)
    assert gumbel_temperature(0, cfg) == 2.0
    assert gumbel_temperature(10**6, cfg) == 0.5


def test_cli_and_config_errors(source_dir, tmp_path):
    from seslib.bin import pretrain_teacher
    data = tmp_path / "d"
    assert mix_data.main(["all", "--sources", str(source_dir), "--out", str(data), "--tag", "t", "--quiet"]) == 0
    sets = [f"model.{k}={v}" for k, v in TINY.items()] + [
        "train.batch_size=2", "train.crop_seconds=1.0", "train.max_steps=2", "train.warmup_steps=1", "train.threads=1"]
    assert pretrain_teacher.main(["--data-dir", str(data), "--out", str(tmp_path / "t"), "--set", *sets]) == 0
    assert (tmp_path / "t" / "teacher" / "config.json").is_file()
    assert (tmp_path / "t" / "teacher" / "preprocessor_config.json").is_file()
    import pytest
    with pytest.raises(ValueError, match="unknown train keys"):
        pretrain_teacher.load_config(None, ["train.bogus=1"])
    assert pretrain_teacher.main(["--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "x"),
                                  "--set", *sets]) == 1
