"""Where and how training runs: the device, the numeric precision and the processes.

Device placement, mixed precision (autocast, the fp16 gradient scaler) and the process group
come from Lightning Fabric (``lightning-fabric``), which its authors test on GPUs; seslib keeps
its own loop, checkpoints, logs and exact resume (:mod:`seslib.train.trainer`). This module turns
the config's ``train.device`` and ``train.precision`` and the environment that ``torchrun``
(or ``utils/slurm_torchrun.sh``) sets into a :class:`lightning_fabric.Fabric`:

- ``device``: ``auto`` (CUDA when present, else the CPU), ``cpu``, ``cuda`` (under torchrun:
  one GPU per process, ``cuda:$LOCAL_RANK``) or ``cuda:N`` (one process on GPU N);
- ``precision``: ``32``, ``bf16-mixed``, ``16-mixed`` or ``auto`` (``bf16-mixed`` on GPUs
  with native bfloat16, compute capability 8.0 and up; ``torch.cuda.is_bf16_supported()``
  alone also counts emulation, which would give a V100 or T4 bf16; ``32`` elsewhere); under
  mixed precision the STFT/iSTFT, SI-SDR, other reductions and the GCRN's LSTMs run in
  float32 (:func:`float32`; cuDNN's bf16 RNNs depend on its version); in ``32`` on a GPU,
  matrix products use TF32 where the GPU has it (:func:`use_tf32`);
- processes: one per ``torchrun`` worker; the process group's backend follows the device in
  use (NCCL for CUDA, gloo for the CPU), not what the machine happens to have.
"""
from __future__ import annotations

import contextlib
import functools
import os
import warnings

import torch

PRECISIONS = {"32": "32-true", "bf16-mixed": "bf16-mixed", "16-mixed": "16-mixed"}


def world() -> tuple[int, int, int]:
    """``(world size, local world size, this process's local rank)`` from torchrun's environment."""
    n = int(os.environ.get("WORLD_SIZE", "1"))
    return n, int(os.environ.get("LOCAL_WORLD_SIZE", str(n))), int(os.environ.get("LOCAL_RANK", "0"))


def resolve_device(spec: str = "auto") -> torch.device:
    """The device of this process for ``train.device`` (see the module docstring).

    Raises:
        ValueError: an unknown spec, or CUDA asked for where there is none.
    """
    spec = str(spec or "auto")
    local_rank = world()[2]
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"train.device {spec}: CUDA is not usable here: {cuda_problem()} "
                             f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); "
                             "fix that, or train with train.device cpu")
        if spec != "cuda" and world()[0] > 1:
            raise ValueError(f"train.device {spec}: under torchrun each process takes its own GPU; use cuda")
        index = local_rank if spec == "cuda" else int(spec.split(":", 1)[1])
        if index >= torch.cuda.device_count():
            raise ValueError(f"train.device {spec}: GPU {index} does not exist ({torch.cuda.device_count()} found)")
        return torch.device("cuda", index)
    raise ValueError(f"train.device must be auto, cpu, cuda or cuda:N, not '{spec}'")


def cuda_problem() -> str:
    """Why CUDA is not usable: no GPU driver, a driver too old for this torch, no device, a CPU-only build."""
    if torch.version.cuda is None:
        return "this torch is a CPU-only build"
    try:
        torch.cuda.init()
    except (RuntimeError, AssertionError) as exc:  # e.g. "The NVIDIA driver on your system is too old"
        return str(exc).strip().splitlines()[0]
    return "no GPU is visible (CUDA_VISIBLE_DEVICES, or none in this machine)"


def describe_device(device: torch.device) -> str:
    """``cpu``, or ``cuda:N (name, compute capability X.Y, N GiB)``: what train.log opens with."""
    if device.type != "cuda":
        return str(device)
    p = torch.cuda.get_device_properties(device)
    return f"{device} ({p.name}, compute capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB)"


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CUDA compute capability 8.0 and up), not by emulation."""
    return device.type == "cuda" and torch.cuda.get_device_capability(device)[0] >= 8


def use_tf32(device: torch.device, precision: str) -> bool:
    """Let float32 matrix products and convolutions use TF32 on a GPU that has it (compute
    capability 8.0 and up) when training in ``32``; returns whether it is on."""
    on = precision == "32" and native_bf16(device)
    if on:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return on


def job_device(spec: str, job: int = 1) -> torch.device:
    """The device of job ``job`` (1-based) of a CLI's ``--nj`` jobs: ``cuda`` spreads the jobs
    over the GPUs (job J on GPU (J - 1) mod count); other specs as :func:`resolve_device`."""
    if str(spec) in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda", (job - 1) % torch.cuda.device_count())
    return resolve_device(spec)


def resolve_precision(spec: str, device: torch.device) -> str:
    """``32``, ``bf16-mixed`` or ``16-mixed`` for ``train.precision`` on ``device``."""
    spec = str(spec or "auto")
    if spec == "auto":
        return "bf16-mixed" if native_bf16(device) else "32"
    if spec not in PRECISIONS:
        raise ValueError(f"train.precision must be auto, {', '.join(PRECISIONS)}, not '{spec}'")
    return spec


def module_device(module: torch.nn.Module) -> torch.device:
    """The device a module's parameters (or, without any, its buffers) live on; the CPU for neither."""
    for t in list(module.parameters()) + list(module.buffers()):
        return t.device
    return torch.device("cpu")


def process_backend(device: torch.device) -> str:
    """The process group's backend for the device the processes train on."""
    return "nccl" if device.type == "cuda" else "gloo"


def make_fabric(device: torch.device, precision: str, distributed: bool):
    """A launched :class:`lightning_fabric.Fabric` for this process (its process group set up
    when ``distributed``: one process per torchrun worker, ``process_backend(device)``)."""
    from lightning_fabric import Fabric
    from lightning_fabric.plugins.environments import TorchElasticEnvironment
    from lightning_fabric.strategies import DDPStrategy
    n, local_n, _ = world()
    warnings.filterwarnings("ignore", message="The `srun` command is available")  # Fabric on a Slurm login host
    if distributed and n > 1:
        # torchrun made the processes (also inside srun, where Fabric would otherwise read SLURM_* as ranks)
        fabric = Fabric(accelerator=device.type, devices=local_n, num_nodes=n // local_n,
                        strategy=DDPStrategy(process_group_backend=process_backend(device),
                                             cluster_environment=TorchElasticEnvironment()),
                        precision=PRECISIONS[precision])
    else:
        fabric = Fabric(accelerator=device.type, devices=[device.index or 0] if device.type == "cuda" else 1,
                        strategy="auto", precision=PRECISIONS[precision])
    fabric.launch()
    return fabric


def float32(fn):
    """Run ``fn`` in float32 whatever autocast is active: its floating-point tensor arguments are
    cast to float32 (a no-op for float32 ones) and autocast is off inside. For the STFT pair,
    SI-SDR and the other reductions that lose accuracy in 16 bits (and ``torch.complex``, which
    takes no bfloat16)."""
    def cast(a):
        return a.float() if torch.is_tensor(a) and a.is_floating_point() else a

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        active = [t for t in ("cuda", "cpu") if torch.is_autocast_enabled(t)]
        args, kwargs = [cast(a) for a in args], {k: cast(v) for k, v in kwargs.items()}
        if not active:
            return fn(*args, **kwargs)
        with contextlib.ExitStack() as stack:
            for t in active:
                stack.enter_context(torch.autocast(t, enabled=False))
            return fn(*args, **kwargs)
    return wrapper
