"""Self-describing checkpoints: the config travels with the weights."""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from .fileutil import atomic_output


def _flat(cfg: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict) and v and k not in ("model", "mode_options"):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = json.dumps(v, sort_keys=True)
    return out


#: config keys that may change between a killed run and its resumption: they change what is
#: logged and saved when, not what is learned (``train.max_steps`` also, upward, under the
#: constant schedule, whose learning rate does not depend on it; any other key restarts)
SAFE_TO_CHANGE = ("train.log_every", "train.valid_every", "train.ckpt_every", "train.threads",
                  "train.device",  # a checkpoint written on a GPU resumes on a CPU and the reverse
                  "train.num_workers")  # batches do not depend on it (seslib.train.loader)


def config_changes(old: dict, new: dict, step: int, defaults: dict | None = None) -> tuple[list[str], list[str]]:
    """``(safe, unsafe)`` changes from the config a checkpoint of ``step`` was trained with
    (``old``) to ``new``, one ``"key: old -> new"`` line each. A key that one of them lacks (a
    checkpoint written before the key existed) counts as its value in ``defaults``."""
    d = _flat(defaults or {})
    a, b = {**d, **_flat(old)}, {**d, **_flat(new)}
    safe, unsafe = [], []
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        line = f"{key}: {a.get(key, 'unset')} -> {b.get(key, 'unset')}"
        upward = (key == "train.max_steps" and json.loads(b[key]) >= step
                  and new.get("scheduler", {}).get("name") == "constant" and key in a)
        (safe if key in SAFE_TO_CHANGE or upward else unsafe).append(line)
    return safe, unsafe


def supersede(out: Path, names, move: bool = True) -> Path:
    """Move the files ``names`` of a run that is restarted into ``out/.superseded/<time>/`` (kept,
    not deleted); ``move=False`` (the other processes of a DDP run) only names the place."""
    keep = Path(out) / ".superseded" / time.strftime("%Y%m%d-%H%M%S")
    if move:
        keep.mkdir(parents=True, exist_ok=True)
        for name in names:
            if (Path(out) / name).exists():
                (Path(out) / name).rename(keep / name)
    return keep


def save_checkpoint(path, state: dict) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename."""
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def read_checkpoint(path, map_location="cpu") -> dict:
    """``torch.load`` of a checkpoint file, with an error that names the file when it is
    missing or damaged (a truncated file gives torch's bare ``OSError``/``RuntimeError``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file does not load.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        ck = torch.load(path, map_location=map_location, weights_only=False)
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise ValueError(f"checkpoint {path} is damaged and does not load ({type(exc).__name__}: {exc}); "
                         f"the stage that wrote it rebuilds it when run again") from None
    return upgrade_checkpoint(ck)


def upgrade_checkpoint(ck: dict) -> dict:
    """A checkpoint written before a rename, in today's names (in place): its config's renamed keys
    (:func:`seslib.config.upgrade_config`), and the best validation score as ``best["score"]``
    (once ``best["valid_si_sdr"]``, whatever the metric was; ``best["metric"]`` names it)."""
    from .config import upgrade_config
    if isinstance(ck, dict) and isinstance(ck.get("config"), dict):
        upgrade_config(ck["config"])
    best = ck.get("best") if isinstance(ck, dict) else None
    if isinstance(best, dict) and "valid_si_sdr" in best:
        best.setdefault("score", best.pop("valid_si_sdr"))
        best.setdefault("metric", "SI-SDR (dB)")  # the only metric before modes named their own
    return ck


def load_model(path, map_location="cpu", teacher=None):
    """Build the enhancer stored in a checkpoint (``last.pt``/``best.pt``), in eval mode.

    A GCRN; or, for the ``concat`` modes, a :class:`seslib.models.concat.ConcatGCRN`, and
    for the decoder pre-trained on teacher embeddings a
    :class:`seslib.models.resynth.TeacherResynth`, whose teacher is loaded from the spec
    recorded at training time, or from ``teacher``.

    Raises:
        ValueError: when the file is not a seslib checkpoint.
    """
    from .models import GCRN

    ck = read_checkpoint(path, map_location)
    if not isinstance(ck, dict) or "model_config" not in ck or "model" not in ck:
        raise ValueError(f"{path} is not a seslib checkpoint (no model_config/model)")
    model = GCRN(**ck["model_config"])
    spec = ck.get("enhancer")
    if spec:
        if spec.get("kind") == "student":
            raise ValueError(f"{path} holds a teacher-shaped student (mode distill_student), not an enhancer; "
                             f"use it as a teacher spec (Teacher('{path}'))")
        if spec.get("kind") not in ("concat", "resynth"):
            raise ValueError(f"{path}: unknown enhancer kind {spec.get('kind')!r}")
        from .teacher import Teacher
        t = Teacher(teacher or spec["teacher"], layers="all")
        if spec["kind"] == "concat":
            from .models.concat import ConcatGCRN
            model = ConcatGCRN(model, t, spec["teacher_dim"], spec["num_hidden"], spec["layers"])
        else:
            from .models.resynth import TeacherResynth
            model = TeacherResynth(model, t)
    model.load_state_dict(ck["model"])
    return model.eval()


def gcrn_state(path) -> tuple[dict, dict]:
    """(GCRN state dict, GCRN config) of any seslib checkpoint, whatever wraps the GCRN
    (the training mode's state holds it under ``model.``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist (train that system first)")
    ck = read_checkpoint(path)
    if not isinstance(ck, dict) or "mode" not in ck or "model_config" not in ck:
        raise ValueError(f"{path} is not a seslib training checkpoint")
    return {k[len("model."):]: v for k, v in ck["mode"].items() if k.startswith("model.")}, ck["model_config"]


def init_from(model, specs) -> list[str]:
    """Copy parts of a GCRN from other checkpoints: the ``init`` of a training config.

    Args:
        model: the GCRN to initialise.
        specs: a list of ``{"checkpoint": PATH, "parts": [top-level module names]}``, e.g.
            ``[{"checkpoint": "exp/pretrain_enc_l1/best.pt", "parts": ["encoder", "lstm"]}]``.
            Every parameter and buffer of the named parts must be in the checkpoint with
            the same shape.

    Returns:
        One line per spec saying what was copied (for the training log).

    Raises:
        ValueError: naming the checkpoint and the part that does not fit.
    """
    own = model.state_dict()
    done = []
    for spec in specs or []:
        if set(spec) != {"checkpoint", "parts"} or not spec["parts"]:
            raise ValueError(f"init entry {spec}: needs 'checkpoint' and a non-empty 'parts' list")
        theirs, _ = gcrn_state(spec["checkpoint"])
        for part in spec["parts"]:
            keys = [k for k in own if k.split(".", 1)[0] == part]
            if not keys:
                raise ValueError(f"init: the model has no part '{part}' (parts: "
                                 f"{sorted({k.split('.', 1)[0] for k in own})})")
            for k in keys:
                if k not in theirs or theirs[k].shape != own[k].shape:
                    got = "missing" if k not in theirs else f"shape {tuple(theirs[k].shape)}"
                    raise ValueError(f"init: {spec['checkpoint']} cannot give part '{part}': {k} is {got}, "
                                     f"the model needs {tuple(own[k].shape)}")
                own[k] = theirs[k].clone()
        done.append(f"{', '.join(spec['parts'])} from {spec['checkpoint']}")
    model.load_state_dict(own)
    return done
