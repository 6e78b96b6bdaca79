"""Training loop: random crops, Adam, validation SI-SDR, self-describing checkpoints,
exact resume, and multi-process data parallelism (``torchrun``, DDP).

Exact resume. The batch of step ``s`` is a pure function of the seed and ``s`` (epoch
permutation and crop offsets are drawn from generators seeded with ``(seed, epoch)`` and
``(seed, epoch, utterance)``), so no data-loader state has to be saved. A checkpoint holds
model, optimisers, scheduler, step, best score and every RNG state; training resumed
from the checkpoint of step ``s`` performs exactly the updates an uninterrupted run
performs after step ``s``.

Teacher features. A mode that uses the teacher names the feature streams its loss reads
(:meth:`seslib.modes.Mode.streams`); ``teacher.features`` says where they come from:
``dumped`` (ark/scp in ``teacher.dump_dir``, written by ``seslib.bin.dump_features``) or
``online`` (the teacher runs on each crop). See :mod:`seslib.features`. Crops start on
the 320-sample hop in every mode, so their frames are frames of the dump and every mode
sees the same crops.

Pre-trained parts. ``init`` (a list of ``{checkpoint, parts}``) copies GCRN parts
(``encoder``, ``lstm``, ``decoders``, ``out``, ``to_teacher``, ``from_teacher``) from other
checkpoints before the first step (:func:`seslib.checkpoint.init_from`); ``model.bridge:
teacher`` takes the teacher's width (or, without a teacher, the first init checkpoint's
bridge). ``train.max_steps: 0`` only assembles, validates and saves such a model.

Checkpoints (``last.pt`` every ``ckpt_every`` steps, ``best.pt`` on a better validation
score: SI-SDR, or the mode's own ``valid_score``; with ``keep_every`` also ``snapshots/step<N>.pt``)
are written to a temporary file and renamed; each holds the effective config, so
:func:`seslib.checkpoint.load_model` needs nothing else.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from .. import audio, augment, dynamic_mix, engine, stft
from ..checkpoint import config_changes, gcrn_state, init_from, read_checkpoint, save_checkpoint, supersede
from ..config import DEFAULTS
from ..data import read_kv
from ..features import DumpedFeatures, OnlineFeatures
from ..losses import si_sdr
from ..models import GCRN
from ..modes import get_mode
from .crops import CropSampler
from .loader import StepBatches, step_loader
from .state import lr_lambda, restore_lr, rng_state, seed_everything, set_rng_state

log = logging.getLogger(__name__)

class Trainer:
    """Trains one mode; see the module docstring.

    Args:
        cfg: effective config (:data:`DEFAULTS` merged with the recipe's).
        train_dir, valid_dir: data dirs.
        out_dir: experiment dir (``last.pt``, ``best.pt``, ``config.yaml``, ``train.log``).
    """

    def __init__(self, cfg: dict, train_dir, valid_dir, out_dir):
        self.cfg, self.out = cfg, Path(out_dir)
        tc = cfg["train"]
        self.device = engine.resolve_device(tc["device"])
        self.precision = engine.resolve_precision(tc["precision"], self.device)
        self.tf32 = engine.use_tf32(self.device, self.precision)
        # assembling a model from trained parts (max_steps 0) is done by one process, without a group
        self.fabric = engine.make_fabric(self.device, self.precision, distributed=tc["max_steps"] > 0)
        self.rank, self.world = self.fabric.global_rank, self.fabric.world_size
        self.distributed = self.world > 1
        seed_everything(tc["seed"], tc["threads"])
        mode_cls = get_mode(cfg["mode"])
        self.teacher, self.features = None, None
        tcfg = cfg["teacher"]
        if mode_cls.uses_teacher:
            if not tcfg["spec"]:
                raise ValueError(f"mode {cfg['mode']} needs a teacher: set teacher.spec (a seslib.teacher spec: whisper-tiny.en, a hub id, a directory, random:<spec>)")
            from ..teacher import Teacher
            self.teacher = Teacher(tcfg["spec"], layers="all").to(self.device)
        model_cfg = dict(cfg["model"])
        if model_cfg.get("bridge") == "teacher":
            if self.teacher is None and not cfg["init"]:
                raise ValueError("model.bridge: teacher needs a teacher (teacher.spec) or an init checkpoint")
            model_cfg["bridge"] = self.teacher.dim if self.teacher else gcrn_state(cfg["init"][0]["checkpoint"])[1].get("bridge", 0)
        self.model = GCRN(**model_cfg)
        self.init_log = init_from(self.model, cfg["init"])
        self.mode = mode_cls(self.model, cfg["mode_options"], teacher=self.teacher)
        self.streams = self.mode.streams()
        if self.streams:
            if tcfg["features"] == "dumped" and cfg["data"]["dynamic_mixing"]:
                raise ValueError("data.dynamic_mixing makes new audio at every step, so features dumped from the "
                                 "static mixtures do not match it: set teacher.features: online")
            if tcfg["features"] == "dumped":
                if not tcfg["dump_dir"]:
                    raise ValueError("teacher.features is 'dumped' but teacher.dump_dir is not set")
                self.features = DumpedFeatures(tcfg["dump_dir"], self.streams)
                if self.features.meta["dim"] != self.teacher.dim or self.features.meta["num_hidden"] != self.teacher.num_hidden:
                    raise ValueError(f"{tcfg['dump_dir']}: features of {self.features.meta['teacher']}, not of "
                                     f"the configured teacher {tcfg['spec']} (dims differ)")
            elif tcfg["features"] == "online":
                self.features = OnlineFeatures(self.teacher)
            else:
                raise ValueError(f"teacher.features must be 'dumped' or 'online', not '{tcfg['features']}'")
        if self.distributed:  # parameters DDP must not sync (e.g. a discriminator the mode steps itself)
            ignored = getattr(self.mode, "ddp_ignored", lambda: [])()
            torch.nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(self.mode, ignored)
        own = {id(p) for o in self.mode.extra_optimizers().values() for g in o.param_groups for p in g["params"]}
        params = [p for p in self.mode.parameters() if p.requires_grad and id(p) not in own]
        opt = torch.optim.Adam(params, lr=cfg["optim"]["lr"], betas=tuple(cfg["optim"]["betas"]))
        self.sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg))
        # on the device, wrapped in DDP when distributed, forward under the precision's autocast
        self.runner = self.fabric.setup_module(self.mode)
        self.opt = self.fabric.setup_optimizers(opt)
        self.sampler = self._sampler(train_dir)
        if tc["batch_size"] % self.world:
            raise ValueError(f"batch size {tc['batch_size']} is not divisible by {self.world} processes")
        self.valid_dir = Path(valid_dir)
        self.step = 0
        self.valid_metric = getattr(self.mode, "valid_metric", "SI-SDR (dB)")
        self.best = {"step": 0, "score": -float("inf"), "metric": self.valid_metric}
        self.tb = None

    def _sampler(self, train_dir):
        """Static crops of the training mixtures, or dynamic mixing (``data.dynamic_mixing``)."""
        tc, dc = self.cfg["train"], self.cfg["data"]
        crop = int(tc["crop_seconds"] * audio.SAMPLE_RATE)
        aug = augment.merge_defaults(self.cfg["augment"])
        if not dc["dynamic_mixing"]:
            if dc["exclude"]:
                raise ValueError("data.exclude picks the sources of dynamic mixing: it needs data.dynamic_mixing: true")
            on = augment.enabled(aug)
            if on:
                raise ValueError(f"augmentation ({', '.join(on)}) is applied while mixing: it needs "
                                 "data.dynamic_mixing: true")
            return CropSampler(train_dir, crop, tc["batch_size"], tc["seed"], align=stft.HOP)
        return dynamic_mix.DynamicMixer(train_dir, crop, tc["batch_size"], tc["seed"], dc["snr"], dc["level"],
                                        aug, align=stft.HOP, exclude=dc["exclude"],
                                        snr_definition=dc["snr_definition"])

    # -- checkpoints -------------------------------------------------------------------
    def state(self) -> dict:
        return {"format": "seslib-checkpoint-1", "config": self.cfg, "model_config": self.model.config,
                "enhancer": self.mode.inference_spec(),
                "model": self.mode.inference_model().state_dict(), "mode": self.mode.state_dict(),
                "optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict(),
                "extra_optimizers": {k: o.state_dict() for k, o in self.mode.extra_optimizers().items()},
                "precision": self.fabric.strategy.precision.state_dict(),  # the fp16 gradient scaler's
                "step": self.step, "best": self.best, "rng": rng_state(self.device)}

    def resume(self, path, ck: dict | None = None) -> None:
        ck = ck if ck is not None else read_checkpoint(path)
        self.mode.load_state_dict(ck["mode"])
        self.opt.load_state_dict(ck["optimizer"])
        self.sched.load_state_dict(ck["scheduler"])
        restore_lr(self.opt, self.sched)
        for k, o in self.mode.extra_optimizers().items():
            o.load_state_dict(ck["extra_optimizers"][k])
        self.step, self.best = ck["step"], ck["best"]
        if ck.get("precision"):
            self.fabric.strategy.precision.load_state_dict(ck["precision"])
        set_rng_state(ck["rng"], self.device)
        metric = self.best.get("metric", "SI-SDR (dB)")
        self._log(f"resumed from {path} at step {self.step} (best valid {metric} {self.best['score']:.3f} "
                  f"at step {self.best['step']})")

    def _resume_or_restart(self, path: Path) -> None:
        """Resume from ``path`` when it was trained by this config, or by one that differs only
        in keys that are safe to change mid-run (:func:`config_changes`); else (or when it does
        not load) restart from step 0, the superseded files kept in ``.superseded/`` (a resumed
        model is never labelled with a config that did not train it)."""
        try:
            ck = read_checkpoint(path)
            safe, unsafe = config_changes(ck.get("config") or {}, self.cfg, ck.get("step", 0), DEFAULTS)
        except ValueError as exc:  # a killed run's checkpoint that does not load cannot be resumed from
            ck, safe, unsafe = {}, [], [str(exc)]
        if not unsafe:
            self.resume(path, ck)
            for line in safe:
                self._log(f"config changed since step {self.step}, safe to change mid-run: {line}")
            return
        if self.distributed:
            self.fabric.barrier()  # every process has read the checkpoint before rank 0 moves it
        keep = supersede(self.out, ("last.pt", "best.pt", "train.log", "tensorboard"), self.rank == 0)
        why = f"was trained with another config ({'; '.join(unsafe)})" if ck else f"does not load ({unsafe[0]})"
        self._log(f"restarting from step 0: {path} (step {ck.get('step', '?')}) {why}; its files are kept in {keep}")


    def _save(self, name: str) -> None:
        if self.rank == 0:
            save_checkpoint(self.out / name, self.state())

    # -- validation --------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> float:
        """Mean SI-SDR (dB) of the enhanced validation utterances (whole, one at a time), or
        of the mode's ``valid_score(noisy, clean)`` where it has one, averaged over all processes."""
        wav, spk1 = read_kv(self.valid_dir / "wav.scp"), read_kv(self.valid_dir / "spk1.scp")
        utts = sorted(wav)
        if self.cfg["train"]["valid_max_utts"]:
            utts = utts[: self.cfg["train"]["valid_max_utts"]]
        model = self.mode.inference_model()
        model.eval()
        total = torch.zeros(2, dtype=torch.float64, device=self.device)
        for utt in utts[self.rank::self.world]:
            x = torch.from_numpy(audio.read_audio(wav[utt], utt=utt))[None].to(self.device)
            y = torch.from_numpy(audio.read_audio(spk1[utt], utt=utt))[None].to(self.device)
            v = self.mode.valid_score(x, y) if hasattr(self.mode, "valid_score") else si_sdr(model(x), y).item()
            total += torch.tensor([v, 1.0], dtype=torch.float64, device=self.device)
        self.mode.train()
        if self.distributed:
            total = self.fabric.all_reduce(total, reduce_op="sum")
        return (total[0] / max(total[1], 1)).item()

    # -- loop ----------------------------------------------------------------------------
    def _log(self, msg: str) -> None:
        if self.rank == 0:
            log.info(msg)
            with open(self.out / "train.log", "a", encoding="utf-8") as f:
                f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}\n")

    def _scalar(self, name: str, value: float) -> None:
        if self.rank != 0:
            return
        if self.tb is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
                self.tb = SummaryWriter(str(self.out / "tensorboard"))
            except ImportError:
                self.tb = False
        if self.tb:
            self.tb.add_scalar(name, value, self.step)

    def _features(self, dumped: dict, noisy, clean) -> dict:
        """The batch's teacher features on the device: read by the loader's workers (dumped), or
        computed here by the teacher on the training device (online)."""
        if not self.streams:
            return {}
        if isinstance(self.features, DumpedFeatures):
            return {k: v.to(self.device, non_blocking=True) for k, v in dumped.items()}
        return self.features.batch(self.streams, {"noisy": noisy, "clean": clean})

    def _record_validation(self) -> None:
        """Validate; save ``best.pt`` when better. ``best["score"]`` holds the score
        of the mode's validation metric (``best["metric"]`` names it)."""
        v = self.validate()
        self._scalar("valid/si_sdr" if self.valid_metric == "SI-SDR (dB)" else "valid/score", v)
        better = v > self.best["score"]
        if better:
            self.best = {"step": self.step, "score": v, "metric": self.valid_metric}
            self._save("best.pt")
        name = "valid SI-SDR" if self.valid_metric == "SI-SDR (dB)" else f"valid {self.valid_metric}"
        self._log(f"step {self.step}: {name} {v:.3f}" + (" dB" if self.valid_metric == "SI-SDR (dB)" else "")
                  + (" (best)" if better else f" (best {self.best['score']:.3f} at step {self.best['step']})"))

    def train(self) -> dict:
        """Train up to ``train.max_steps`` (resuming from ``last.pt`` if present)."""
        tc = self.cfg["train"]
        self.out.mkdir(parents=True, exist_ok=True)
        if (self.out / "last.pt").is_file():
            self._resume_or_restart(self.out / "last.pt")
        if self.rank == 0:  # every (re)start: where and how this process trains
            bs = tc["batch_size"]
            self._log(f"device {engine.describe_device(self.device)}, precision {self.precision}"
                      f"{', TF32 matmuls' if self.tf32 else ''}, {self.world} process(es), "
                      f"{bs // self.world} crops per process (batch {bs})")
        if self.step == 0 and self.rank == 0:
            n_learn = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
            self._log(f"mode {self.cfg['mode']}, GCRN {self.model.num_parameters():,} parameters "
                      f"({n_learn:,} learn), {self.sampler.describe()}, {self.world} process(es)")
            for line in self.init_log:
                self._log(f"init: {line}")
            if self.teacher is not None:
                n_mode = sum(p.numel() for p in self.mode.parameters()) - self.model.num_parameters()
                self._log(f"teacher {self.teacher.name}: {self.teacher.num_hidden} hidden states of {self.teacher.dim} "
                          f"dims, frozen; features {self.cfg['teacher']['features'] if self.streams else 'not read'} "
                          f"{' '.join(self.streams)}; {n_mode:,} mode parameters besides the GCRN")
        self.mode.train()
        if tc["max_steps"] == 0 and not (self.out / "best.pt").is_file():  # assemble only
            self._record_validation()
            self._save("last.pt")
        t_win, acc, acc_n = time.time(), {}, 0
        dumped = self.features if isinstance(self.features, DumpedFeatures) else None
        batches = StepBatches(self.sampler, self.rank, self.world, dumped, self.streams if dumped else ())
        for step, _, noisy, clean, feats in step_loader(batches, self.step, tc["max_steps"], tc["num_workers"],
                                                        pin_memory=self.device.type == "cuda"):
            assert step == self.step
            noisy, clean = (t.to(self.device, non_blocking=True) for t in (noisy, clean))
            feats = self._features(feats, noisy, clean)
            loss, logs = self.runner(noisy, clean, feats)
            self.opt.zero_grad(set_to_none=True)
            self.fabric.backward(loss)
            gn = self.fabric.clip_gradients(self.runner, self.opt, max_norm=self.cfg["optim"]["grad_clip"],
                                            error_if_nonfinite=False)
            self.opt.step()
            self.sched.step()
            logs.update(self.mode.after_step())
            self.step += 1
            for k, v in dict(logs, loss=loss.detach(), grad_norm=gn.detach()).items():
                acc[k] = acc.get(k, 0.0) + v  # tensors stay on the device until they are logged
            acc_n += 1
            if self.step % tc["log_every"] == 0 or self.step == tc["max_steps"]:
                rate = acc_n / (time.time() - t_win)
                acc = {k: float(v) for k, v in acc.items()}
                self._log(f"step {self.step}/{tc['max_steps']} "
                          + " ".join(f"{k} {v / acc_n:.3f}" for k, v in acc.items())
                          + f" lr {self.sched.get_last_lr()[0]:.2e} {rate:.2f} steps/s")
                for k, v in acc.items():
                    self._scalar(f"train/{k}", v / acc_n)
                t_win, acc, acc_n = time.time(), {}, 0
            if self.step % tc["valid_every"] == 0 or self.step == tc["max_steps"]:
                self._record_validation()
            if self.step % tc["ckpt_every"] == 0 or self.step == tc["max_steps"]:
                self._save("last.pt")
            if tc["keep_every"] and self.step % tc["keep_every"] == 0:
                (self.out / "snapshots").mkdir(exist_ok=True)
                self._save(f"snapshots/step{self.step}.pt")  # the model of this step, for curves against steps
        if self.distributed:
            self.fabric.barrier()
        return {"step": self.step, "best": self.best}
