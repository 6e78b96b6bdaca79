"""Where training runs: every mode on PyTorch's meta device (a tensor that seslib creates on
the CPU then raises), bf16 mixed precision on the CPU, the process backend from the device,
the float32 trainer equal to a plain PyTorch loop, and a GPU smoke test where CUDA exists."""
import numpy as np
import pytest
import torch

from seslib import engine, stft
from seslib.bin import train
from seslib.config import ConfigError
from seslib.features import OnlineFeatures
from seslib.models import GCRN
from seslib.modes import MODES, get_mode
from seslib.teacher import Teacher
from seslib.train.crops import CropSampler
from seslib.train.state import seed_everything
from seslib.train.trainer import Trainer

TINY = ["model.channels=[4,6,8,8,8]", "train.batch_size=2", "train.crop_seconds=0.5", "train.log_every=1",
        "train.valid_every=2", "train.ckpt_every=2", "train.valid_max_utts=2", "train.threads=1"]
META = torch.device("meta")


def _mode_on(name: str, teacher_spec, device):
    cls = get_mode(name)
    teacher = Teacher(teacher_spec, layers="all") if cls.uses_teacher else None
    cfg = {"channels": [4, 6, 8, 8, 8]}
    if name.startswith("pretrain_enc") or name == "pretrain_dec_teacher":
        cfg["bridge"] = teacher.dim
    if name == "pretrain_dec_teacher":
        cfg["skips"] = "duplicate"
    mode = cls(GCRN(**cfg), {}, teacher=teacher).to(device)
    if teacher is not None:
        teacher.to(device)
    return mode, teacher


def _meta_step(name, teacher_spec):
    mode, teacher = _mode_on(name, teacher_spec, META)
    noisy, clean = torch.randn(2, 8000, device=META), torch.randn(2, 8000, device=META)
    feats = OnlineFeatures(teacher).batch(mode.streams(), {"noisy": noisy, "clean": clean}) if mode.streams() else {}
    loss, logs = mode(noisy, clean, feats)
    loss.backward()
    learn = [p for p in mode.parameters() if p.requires_grad]
    assert loss.device == META and all(v.device == META for v in logs.values() if torch.is_tensor(v))
    assert learn and all(p.grad is not None and p.grad.device == META for p in learn if p.grad is not None)
    assert any(p.grad is not None for p in learn)
    mode.after_step()  # the discriminator's own update, where a mode has one
    if mode.enhances:
        assert mode.inference_model()(noisy).device == META


@pytest.mark.parametrize("name", sorted(MODES))
def test_every_mode_trains_on_the_meta_device(name, tiny_teacher_dir):
    """Model, teacher and batch on ``meta``: one forward, backward and own update of every mode
    (Table 1, pre-training, the student). Mixing ``meta`` and CPU tensors raises, so a tensor
    created without its input's device fails here as it would on a GPU."""
    _meta_step(name, tiny_teacher_dir)


def test_meta_check_catches_a_tensor_made_on_the_cpu(tiny_teacher_dir, monkeypatch):
    """The check above can fail: STFT windows made on the CPU break it."""
    real = stft.frame_windows
    monkeypatch.setattr(stft, "frame_windows", lambda n, device=None, dtype=torch.float32: real(n, None, dtype))
    with pytest.raises((RuntimeError, NotImplementedError)):
        _meta_step("base", tiny_teacher_dir)


def test_whisper_teacher_on_the_meta_device(tiny_whisper):
    _meta_step("distill_embed", tiny_whisper / "ct2_float32")


def test_device_precision_and_backend_choices(monkeypatch):
    assert engine.resolve_device("cpu") == torch.device("cpu")
    assert engine.process_backend(torch.device("cpu")) == "gloo"
    assert engine.process_backend(torch.device("cuda", 1)) == "nccl"
    assert engine.resolve_precision("auto", torch.device("cpu")) == "32"
    assert engine.resolve_precision("bf16-mixed", torch.device("cpu")) == "bf16-mixed"
    with pytest.raises(ValueError, match="train.precision must be"):
        engine.resolve_precision("fp8", torch.device("cpu"))
    with pytest.raises(ValueError, match="train.device must be"):
        engine.resolve_device("gpu")
    assert engine.job_device("cpu", 3) == torch.device("cpu")
    if not torch.cuda.is_available():
        assert engine.resolve_device("auto") == torch.device("cpu") == engine.job_device("auto", 2)
        with pytest.raises(ValueError, match="CUDA is not usable here: this torch is a CPU-only build"
                                              if torch.version.cuda is None else "CUDA is not usable here"):
            engine.resolve_device("cuda")
    with pytest.raises(ConfigError, match="train.device: 'gpu' is not one of auto, cpu, cuda or cuda:N"):
        train.load_config(None, ["train.device=gpu"])
    assert train.load_config(None, ["train.precision=32"])["train"]["precision"] == "32"  # YAML's int 32
    with pytest.raises(ConfigError, match="train.precision: 'half' is not one of"):
        train.load_config(None, ["train.precision=half"])


def test_cuda_problems_are_named_and_bf16_is_native_only(monkeypatch):
    """A broken CUDA is an error naming why (never a silent CPU run); bf16 and TF32 only where the GPU
    has them natively (compute capability 8.0+): is_bf16_supported() also counts emulation (V100, T4)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.8")

    def old_driver():
        raise RuntimeError("The NVIDIA driver on your system is too old (found version 11040).\nmore")
    monkeypatch.setattr(torch.cuda, "init", old_driver)
    with pytest.raises(ValueError, match=r"CUDA is not usable here: The NVIDIA driver on your system is too old "
                                         r"\(found version 11040\). \(torch .*built for CUDA 12.8\)"):
        engine.resolve_device("cuda")
    gpu = torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # emulation counted
    for capability, precision in (((7, 0), "32"), ((7, 5), "32"), ((8, 0), "bf16-mixed"), ((9, 0), "bf16-mixed")):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None, c=capability: c)
        assert engine.resolve_precision("auto", gpu) == precision, capability
        assert engine.native_bf16(gpu) == (precision == "bf16-mixed")
    assert engine.use_tf32(torch.device("cpu"), "32") is False
    assert engine.describe_device(torch.device("cpu")) == "cpu"


def test_lstm_is_a_float32_island():
    from seslib.models.gcrn import GroupedLSTM
    torch.manual_seed(0)
    m = GroupedLSTM(16, 2, 2)
    x = torch.randn(2, 7, 16)
    ref, _ = m(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, state = m(x.bfloat16())
    assert y.dtype == torch.float32 and state[0][0][0].dtype == torch.float32
    assert torch.allclose(y, m(x.bfloat16().float())[0], atol=1e-6)  # float32 arithmetic on the bf16 input
    assert (y - ref).abs().max() < 0.05


def test_float32_islands_under_autocast():
    x = torch.randn(2, 4000)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        spec = stft.stft(x.bfloat16())
        y = stft.istft(spec, 4000)
        from seslib.losses import si_sdr
        s = si_sdr(y.bfloat16(), x)
    assert spec.dtype == torch.complex64 and y.dtype == torch.float32 and s.dtype == torch.float32
    n = stft.WIN + stft.HOP * (stft.num_frames(4000) - 1)  # the samples the frames cover
    assert torch.allclose(y[:, :n], x.bfloat16().float()[:, :n], atol=1e-5)  # float32 analysis/synthesis pair


def test_bf16_mixed_step_on_cpu(dirs, tmp_path):
    tr, va = dirs
    t = Trainer(train.load_config(None, TINY + ["train.max_steps=2", "train.precision=bf16-mixed",
                                                "train.device=cpu"]), tr, va, tmp_path / "bf16")
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    dtypes = []  # the encoder's convolutions: bfloat16 in the 2 training steps, float32 in validation
    hook = t.model.encoder[0].conv.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    t.train()
    hook.remove()
    assert dtypes[:2] == [torch.bfloat16] * 2 and set(dtypes[2:]) == {torch.float32}
    log = (tmp_path / "bf16" / "train.log").read_text()
    assert log.splitlines()[0].split(" ", 2)[2].startswith("device cpu, precision bf16-mixed, 1 process(es), ")
    assert " crops per process (batch " in log.splitlines()[0] and " steps/s" in log
    losses = [float(line.split(" loss ")[1].split()[0]) for line in log.splitlines() if " loss " in line]
    assert len(losses) == 2 and all(np.isfinite(losses))
    after = t.model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if after[k].is_floating_point())


def test_float32_trainer_equals_a_plain_pytorch_loop(dirs, tmp_path):
    """With precision 32 on the CPU the trainer's updates are those of the plain loop it
    replaced (Adam, gradient clipping, the seeded crops), bit for bit."""
    tr, va = dirs
    cfg = train.load_config(None, TINY + ["train.max_steps=3", "train.valid_every=100", "train.ckpt_every=100"])
    t = Trainer(cfg, tr, va, tmp_path / "fabric")
    t.train()
    tc = cfg["train"]
    seed_everything(tc["seed"], tc["threads"])
    model = GCRN(**cfg["model"])
    mode = get_mode("base")(model, {})
    params = [p for p in mode.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg["optim"]["lr"], betas=tuple(cfg["optim"]["betas"]))
    sampler = CropSampler(tr, int(tc["crop_seconds"] * 16000), tc["batch_size"], tc["seed"], align=stft.HOP)
    for step in range(3):
        noisy, clean = sampler.batch(step)
        loss, _ = mode(noisy, clean, {})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg["optim"]["grad_clip"])
        opt.step()
    mine, theirs = model.state_dict(), t.model.state_dict()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the GPU smoke test needs one")
def test_gpu_smoke(dirs, tmp_path, tiny_teacher_dir):
    """On a GPU: Base and Embed. distillation (online teacher) train 2 steps in bf16 on cuda,
    and the checkpoint resumes on the CPU."""
    tr, va = dirs
    for mode in ("base", "distill_embed"):
        sets = TINY + ["train.max_steps=2", "train.device=cuda", "train.precision=auto", f"mode={mode}"]
        if mode != "base":
            sets += [f"teacher.spec={tiny_teacher_dir}", "teacher.features=online"]
        t = Trainer(train.load_config(None, sets), tr, va, tmp_path / mode)
        assert t.device.type == "cuda" and next(t.model.parameters()).device.type == "cuda"
        t.train()
        cpu = train.load_config(None, [s.replace("train.max_steps=2", "train.max_steps=3")
                                       .replace("train.device=cuda", "train.device=cpu") for s in sets])
        assert Trainer(cpu, tr, va, tmp_path / mode).train()["step"] == 3


@pytest.mark.parametrize("dynamic", [False, True])
def test_batches_and_weights_do_not_depend_on_the_worker_count(dirs, tmp_path, dynamic):
    """DataLoader workers prepare the batches (dynamic mixing included): 0 and 2 workers give the
    same batches and the same weights, and the global RNG (saved for exact resume) is untouched."""
    from seslib.train.loader import StepBatches, step_loader
    tr, va = dirs
    sets = TINY + ["train.max_steps=3"] + (["data.dynamic_mixing=true"] if dynamic else [])
    weights = {}
    for n in (0, 2):
        t = Trainer(train.load_config(None, sets + [f"train.num_workers={n}"]), tr, va, tmp_path / f"w{n}")
        state = torch.get_rng_state()
        got = list(step_loader(StepBatches(t.sampler), 1, 3, num_workers=n))
        assert torch.equal(torch.get_rng_state(), state)
        assert [g[0] for g in got] == [1, 2]
        ref = [t.sampler.read(t.sampler.plan(s)) for s in (1, 2)]
        assert all(torch.equal(g[2], r[0]) and torch.equal(g[3], r[1]) for g, r in zip(got, ref))
        t.train()
        weights[n] = t.model.state_dict()
    assert all(torch.equal(weights[0][k], weights[2][k]) for k in weights[0])


def test_training_benchmark_prints_a_row_per_setting(dirs, capsys):
    from seslib.bin import benchmark_train
    tr, va = dirs
    assert benchmark_train.main(["--train-dir", str(tr), "--valid-dir", str(va), "--modes", "base", "--workers", "0",
                                 "1", "--precisions", "32", "--steps", "2", "--warmup", "1", "--batch-size", "2",
                                 "--crop-seconds", "0.5", "--threads", "1"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| base |")]
    assert len(rows) == 2 and all(r.split("|")[4].strip() == "32" and float(r.split("|")[5]) > 0 for r in rows)
