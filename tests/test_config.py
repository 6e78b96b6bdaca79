"""Training configs: values checked against a schema with types; errors name file, key and value."""
import pytest

from seslib.config import ConfigError, load_config


def _load(tmp_path, text, name="train_x.yaml", sets=()):
    p = tmp_path / name
    p.write_text(text)
    return load_config(str(p), list(sets))


def test_numbers_as_yaml_strings_are_numbers(tmp_path):
    # YAML 1.1 reads 1e-3 (no dot) as the string "1e-3": it is the number it spells
    cfg = _load(tmp_path, "optim: {lr: 1e-3}\ntrain: {max_steps: 4e6, crop_seconds: 2}\n")
    assert cfg["optim"]["lr"] == 0.001 and isinstance(cfg["optim"]["lr"], float)
    assert cfg["train"]["max_steps"] == 4000000 and isinstance(cfg["train"]["max_steps"], int)
    assert cfg["train"]["crop_seconds"] == 2.0 and isinstance(cfg["train"]["crop_seconds"], float)
    assert load_config(None, ["optim.lr=5e-4"])["optim"]["lr"] == 5e-4


@pytest.mark.parametrize("text, message", [
    ("optim: {lr: fast}", "optim.lr: 'fast' is not a number"),
    ("optim: {lr: 0}", "optim.lr: 0.0 must be above 0"),
    ("train: {batch_size: 2.5}", "train.batch_size: 2.5 is not a whole number"),
    ("train: {batch_size: 0}", "train.batch_size: 0 must be at least 1"),
    ("train: {max_steps: -1}", "train.max_steps: -1 must be at least 0"),
    ("train: {log_every: yes}", "train.log_every: True is not a whole number"),
    ("train: {max_stpes: 10}", "unknown config key 'train.max_stpes'"),
    ("optim: {betas: [0.9]}", "optim.betas: [0.9] is not a list of 2 values"),
    ("teacher: {features: dumpd}", "teacher.features: 'dumpd' is not one of dumped, online"),
    ("scheduler: {name: linear}", "scheduler.name: 'linear' is not one of constant, cosine"),
    ("mode: bse", "mode: unknown training mode 'bse'"),
    ("mode: triplet\nmode_options: {margin: wide}", "mode_options.margin: 'wide' is not a number"),
    ("mode: base\nmode_options: {weight: 1}", "mode base has no such option"),
    ("data: {dynamic_mixing: maybe}", "data.dynamic_mixing: 'maybe' is not true or false"),
    ("model: {channels: [4, x]}", "model.channels: 'x' is not a whole number"),
    ("optim: {lr: [}", "not valid YAML"),
])
def test_bad_values_name_file_key_and_value(tmp_path, text, message):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    assert message in str(e.value) and "train_x.yaml" in str(e.value)


def test_error_names_the_included_file_that_set_the_value(tmp_path):
    (tmp_path / "common.yaml").write_text("train: {batch_size: lots}\n")
    with pytest.raises(ConfigError, match=r"common.yaml: train.batch_size: 'lots' is not a whole number"):
        _load(tmp_path, "include: common.yaml\nmode: base\n")
    (tmp_path / "common.yaml").write_text("train: {batch_size: 0}\n")
    with pytest.raises(ConfigError, match=r"common.yaml: train.batch_size: 0 must be at least 1"):
        _load(tmp_path, "include: common.yaml\nmode: base\n")
    with pytest.raises(ConfigError, match=r"--set: optim.lr: 'fast' is not a number"):
        _load(tmp_path, "mode: base\n", sets=["optim.lr=fast"])


def test_a_renamed_key_names_its_new_name_and_old_checkpoints_still_read(tmp_path):
    import torch
    from seslib.checkpoint import read_checkpoint
    (tmp_path / "a.yaml").write_text("mode: distill_embed\nteacher: {path: whisper-tiny.en}\n")
    with pytest.raises(ConfigError, match=r"a.yaml: teacher.path is now called teacher.spec"):
        load_config(tmp_path / "a.yaml")
    torch.save({"config": {"mode": "distill_embed", "teacher": {"path": "x", "features": "online"}},
                "best": {"step": 3, "valid_si_sdr": 2.5}}, tmp_path / "old.pt")
    ck = read_checkpoint(tmp_path / "old.pt")
    assert ck["config"]["teacher"] == {"spec": "x", "features": "online"}
    assert ck["best"] == {"step": 3, "score": 2.5, "metric": "SI-SDR (dB)"}
