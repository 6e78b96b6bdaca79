"""Training configs: the defaults, YAML files with includes, ``--set`` overrides, and a schema
with types that checks every value before anything is trained or removed.

A config is :data:`DEFAULTS` merged with a YAML file (``include: FILE`` merges shared files
first) and ``--set section.key=value`` overrides. Each value is checked against the type of
its default and, where one applies, a range or a list of choices:

- a number may be written as YAML reads it or as a string that spells one (``lr: 1e-3``,
  which YAML 1.1 reads as the string "1e-3", is the number 0.001); a whole number may be
  written ``4e6`` or ``4000000.0``; a word where a number belongs is an error;
- ``model`` keys are the GCRN's (:data:`seslib.models.gcrn.DEFAULT_CONFIG`, ``skips``,
  ``bridge``), ``mode_options`` keys the mode's own (its class's ``defaults``);
- an error names the file (or ``--set``), the key and the value.
"""
from __future__ import annotations

import copy
import math
import os
import re

import yaml

from . import dynamic_mix

DEFAULTS = {
    "mode": "base",
    "mode_options": {},
    "init": [],                          # [{checkpoint: PATH, parts: [encoder, lstm, ...]}]
    "teacher": {"spec": None, "features": "dumped", "dump_dir": None},  # spec: a seslib.teacher spec
    "model": {},
    "optim": {"lr": 1.0e-3, "betas": [0.9, 0.999], "grad_clip": 5.0},
    "scheduler": {"name": "constant"},  # constant (paper) | cosine (to lr * min_factor at max_steps)
    "train": {"batch_size": 8, "crop_seconds": 4.0, "max_steps": 1000, "seed": 1, "log_every": 25,
              "valid_every": 250, "ckpt_every": 250, "valid_max_utts": 0, "threads": 0,
              "device": "auto", "precision": "auto",  # seslib.engine: auto = CUDA when present; bf16 there
              "num_workers": 0,                       # DataLoader processes preparing batches (seslib.train.loader)
              "keep_every": 0},                       # also keep snapshots/step<N>.pt every N steps (0: none)
    "data": dict(dynamic_mix.DEFAULTS),  # static crops of the training mixtures, or dynamic mixing
    "augment": {},                       # seslib.augment.DEFAULTS-shaped; needs data.dynamic_mixing
}

#: lower bounds (inclusive unless the key is in _POSITIVE) of numeric values
_AT_LEAST = {"optim.lr": 0, "optim.grad_clip": 0, "train.batch_size": 1, "train.crop_seconds": 0,
             "train.max_steps": 0, "train.log_every": 1, "train.valid_every": 1, "train.ckpt_every": 1,
             "train.valid_max_utts": 0, "train.threads": 0, "scheduler.min_factor": 0, "train.num_workers": 0,
             "train.keep_every": 0}
_POSITIVE = {"optim.lr", "optim.grad_clip", "train.crop_seconds"}
_CHOICES = {"teacher.features": ("dumped", "online"), "scheduler.name": ("constant", "cosine"),
            "train.precision": ("auto", "32", "bf16-mixed", "16-mixed"), "data.snr_definition": ("global", "active")}
_PATTERNS = {"train.device": (re.compile(r"^(auto|cpu|cuda(:\d+)?)$"), "auto, cpu, cuda or cuda:N")}
_TYPES = {"scheduler.min_factor": 0.1, "teacher.spec": "", "teacher.dump_dir": ""}  # where the default says nothing
_FIXED_LENGTH = {"optim.betas", "data.snr", "data.level"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class ConfigError(ValueError):
    """A config value of the wrong type or outside its range; the message names file, key, value."""


def _coerce(value, like, where: str, fixed_length: bool = False):
    """``value`` as the type of the default ``like``; ConfigError naming ``where`` when it is not one.
    A list default gives the type of the elements (and, with ``fixed_length``, their number)."""
    if like is None or value is None and not isinstance(like, (bool, int, float)):
        return value
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: {value!r} is not true or false")
    if isinstance(like, (int, float)):
        v = value
        if isinstance(v, str) and _NUMBER.match(v.strip()):
            v = float(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{where}: {value!r} is not a {'whole number' if isinstance(like, int) else 'number'}")
        if isinstance(like, int):
            if v != int(v):
                raise ConfigError(f"{where}: {value!r} is not a whole number")
            return int(v)
        return float(v)
    if isinstance(like, str):
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):  # precision: 32
            return str(value)
        raise ConfigError(f"{where}: {value!r} is not a string")
    if isinstance(like, list):
        if not isinstance(value, list) or (fixed_length and len(value) != len(like)):
            raise ConfigError(f"{where}: {value!r} is not a list" + (f" of {len(like)} values" if fixed_length else ""))
        return [_coerce(v, like[0], where) for v in value] if like else value
    return value


def _model_types() -> dict:
    from .models.gcrn import DEFAULT_CONFIG
    return {**DEFAULT_CONFIG, "skips": "encoder", "bridge": None}


def check_part(part: dict, source: str) -> dict:
    """Types of one config file's values (or of the ``--set`` overrides); returns the part with
    numbers written as strings converted. Unknown keys are left to :func:`merge_config`."""
    out = copy.deepcopy(part)
    for section, value in part.items():
        where = f"{source}: {section}"
        if section not in DEFAULTS:
            continue
        like = DEFAULTS[section]
        if section == "mode":
            out[section] = _coerce(value, "", where)
            continue
        if section == "augment":
            if value is not None and not isinstance(value, dict):
                raise ConfigError(f"{where}: {value!r} is not a mapping (or null)")
            continue
        if section == "init":
            if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
                raise ConfigError(f"{where}: {value!r} is not a list of {{checkpoint: PATH, parts: [...]}}")
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {value!r} is not a mapping of keys to values")
        if section == "model":
            like = _model_types()
            if value.get("bridge") == "teacher":
                like = dict(like, bridge="teacher")
            elif "bridge" in value:
                like = dict(like, bridge=0)
        elif section == "mode_options":
            continue  # the mode's own defaults: checked in check_config, once the mode is known
        for key, v in value.items():
            if key in like or key in _TYPES or f"{section}.{key}" in _TYPES:
                default = _TYPES.get(f"{section}.{key}", like.get(key))
                out[section][key] = _coerce(v, default, f"{where}.{key}", f"{section}.{key}" in _FIXED_LENGTH)
    return out


def check_config(cfg: dict, origin: dict) -> None:
    """Ranges, choices, the mode and its options of the merged config; ``origin`` maps
    ``section.key`` to the file that set it."""
    from .modes import get_mode
    src = lambda key: origin.get(key, origin.get(key.split(".")[0], "defaults"))  # noqa: E731
    for key, lo in _AT_LEAST.items():
        section, name = key.split(".")
        v = cfg[section].get(name)
        if v is None:
            continue
        if v < lo or (key in _POSITIVE and v <= lo):
            raise ConfigError(f"{src(key)}: {key}: {v!r} must be {'above' if key in _POSITIVE else 'at least'} {lo}")
    for key, choices in _CHOICES.items():
        section, name = key.split(".")
        if cfg[section].get(name) not in choices:
            raise ConfigError(f"{src(key)}: {key}: {cfg[section].get(name)!r} is not one of {', '.join(choices)}")
    for key, (pattern, what) in _PATTERNS.items():
        section, name = key.split(".")
        if not pattern.match(str(cfg[section].get(name))):
            raise ConfigError(f"{src(key)}: {key}: {cfg[section].get(name)!r} is not one of {what}")
    try:
        mode = get_mode(cfg["mode"])
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{src('mode')}: mode: {exc}") from None
    for key, v in (cfg["mode_options"] or {}).items():
        where = f"{src('mode_options.' + key)}: mode_options.{key}"
        if key not in mode.defaults:
            raise ConfigError(f"{where}: mode {cfg['mode']} has no such option; known: {sorted(mode.defaults)}")
        cfg["mode_options"][key] = _coerce(v, mode.defaults[key], where)


def _deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for k, v in override.items():
        out[k] = _deep_merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


#: keys renamed since checkpoints were first written: old -> new (:func:`upgrade_config`)
RENAMED = {"teacher.path": "teacher.spec"}


def upgrade_config(cfg: dict) -> dict:
    """A checkpoint's config with the keys of :data:`RENAMED` under their new names (in place)."""
    for old, new in RENAMED.items():
        (s, k), (_, k2) = old.split("."), new.split(".")
        if isinstance(cfg.get(s), dict) and k in cfg[s]:
            cfg[s].setdefault(k2, cfg[s].pop(k))
    return cfg


def merge_config(base: dict, override: dict) -> dict:
    """Recursive dict merge; unknown top-level or section keys are an error."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        renamed = [new for old, new in RENAMED.items() if old.split(".")[0] == k and isinstance(v, dict)
                   and old.split(".")[1] in v]
        if renamed:
            raise ConfigError(f"{', '.join(o for o in RENAMED if o.split('.')[0] == k)} is now called {renamed[0]}")
        if k not in out:
            raise ConfigError(f"unknown config key '{k}'; known: {sorted(out)}")
        if k == "augment":  # nested; its keys are checked by seslib.augment.merge_defaults; null: none
            out[k] = _deep_merge(out[k], v) if v is not None else {}
        elif isinstance(out[k], dict) and isinstance(v, dict) and k not in ("model", "mode_options"):
            for kk in v:
                if kk not in out[k] and k != "scheduler":
                    raise ConfigError(f"unknown config key '{k}.{kk}'; known: {sorted(out[k])}")
            out[k].update(v)
        else:
            out[k] = v
    return out


def parse_set(items) -> dict:
    """``["train.max_steps=10", "mode=base"]`` -> nested dict, values parsed as YAML."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set needs key=value, got '{item}'")
        key, val = item.split("=", 1)
        d = out
        parts = key.split(".")
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = yaml.safe_load(val)
    return out


def read_config_file(path, _seen=()) -> list[tuple[str, dict]]:
    """``(file, YAML dict)`` of ``path`` and of what it includes, in merge order.

    ``include: FILE`` (relative to the including file; a list for several) is merged
    first, so a recipe keeps what its systems share (budget, data, augmentation) in one file.
    """
    shown = str(path)
    path = os.path.abspath(path)
    if path in _seen:
        raise ConfigError(f"{path}: includes itself (through {' -> '.join(_seen)})")
    try:
        with open(path, encoding="utf-8") as f:
            cfg = yaml.safe_load(f) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: not valid YAML ({exc})") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"{shown}: a config is a mapping of sections, not {type(cfg).__name__}")
    inc = cfg.pop("include", None) or []
    out = []
    for name in [inc] if isinstance(inc, str) else inc:
        out += read_config_file(os.path.join(os.path.dirname(shown), name), _seen + (path,))
    return out + [(shown, cfg)]


def _origins(part: dict, source: str, origin: dict) -> None:
    for k, v in part.items():
        origin[k] = source
        if isinstance(v, dict):
            for kk in v:
                origin[f"{k}.{kk}"] = source


def load_config(path, sets=()) -> dict:
    """The effective config: :data:`DEFAULTS`, then ``path`` (and its includes; a list of files
    is merged in order, e.g. a recipe's shared file and a system's own), then the ``--set``
    overrides, each checked (:func:`check_part`, :func:`check_config`).

    Raises:
        ConfigError: naming the file, the key and the value.
    """
    cfg, origin = DEFAULTS, {}
    paths = ([path] if path else []) if isinstance(path, (str, os.PathLike)) else list(path or [])
    parts = [part for p in paths for part in read_config_file(p)]
    for source, part in parts + [("--set", parse_set(sets))]:
        part = check_part(part, source)
        try:
            cfg = merge_config(cfg, part)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        _origins(part, source, origin)
    check_config(cfg, origin)
    return cfg


def load_sections(defaults: dict, path=None, sets=(), strict=()) -> dict:
    """A config of sections without a schema (e.g. the offline teacher's pre-training): ``defaults``,
    then the YAML file ``path`` (and its includes), then ``--set`` values; a section not in
    ``defaults`` is an error, and so is a key not in a section named in ``strict``, naming both.

    Raises:
        ConfigError: naming the file (or ``--set``), the section and the key.
    """
    cfg = copy.deepcopy(defaults)
    parts = read_config_file(path) if path else []
    for source, part in parts + [("--set", parse_set(sets))]:
        for section, values in part.items():
            if section not in cfg:
                raise ConfigError(f"{source}: unknown config section '{section}'; known: {sorted(cfg)}")
            bad = sorted(set(values) - set(cfg[section])) if section in strict else []
            if bad:
                raise ConfigError(f"{source}: unknown {section} keys {bad}; known: {sorted(cfg[section])}")
            cfg[section].update(values)
    return cfg


__all__ = ["DEFAULTS", "RENAMED", "ConfigError", "load_config", "load_sections", "merge_config", "parse_set",
           "read_config_file", "upgrade_config"]
