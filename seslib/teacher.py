"""The frozen Wav2Vec2 teacher g_s (paper, Sec. 2).

Loads a ``transformers`` ``Wav2Vec2Model`` from a hub id (``facebook/wav2vec2-base``, the
paper's teacher, where the hub is reachable) or from a local ``save_pretrained``
directory (e.g. the small teacher the recipe pre-trains offline), freezes it, and returns
the last layer or every hidden state.

Input normalisation is the model's own: when its feature-extractor config says
``do_normalize`` (or there is none, as for wav2vec 2.0 base), each utterance is brought
to zero mean and unit variance exactly as ``Wav2Vec2FeatureExtractor`` does, but in
torch, so that gradients can flow through the teacher into its input (the output
distillation of Sec. 2.4).

Frames: the input is zero-padded to :func:`seslib.stft.padded_length`, as the GCRN pads
its own, so teacher frame t and GCRN frame t cover the same samples [320 t, 320 t + 400)
and the two have the same number of frames for every input length.
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import stft

log = logging.getLogger(__name__)


class Teacher(nn.Module):
    """Frozen Wav2Vec2.

    Args:
        name_or_path: hub id or local directory written by ``save_pretrained``.
        layers: ``"last"`` (last transformer layer) or ``"all"`` (every hidden state:
            the CNN feature projection and each transformer layer).

    Shape:
        ``[B, N]`` -> ``[B, T, D]`` (last) or ``[B, L + 1, T, D]`` (all), with
        ``T = num_frames(padded_length(N))``.
    """

    def __init__(self, name_or_path: str, layers: str = "last"):
        super().__init__()
        from transformers import Wav2Vec2Model
        if layers not in ("last", "all"):
            raise ValueError(f"layers must be 'last' or 'all', not '{layers}'")
        local = Path(str(name_or_path)).expanduser()
        looks_local = local.is_absolute() or str(name_or_path).startswith((".", "~")) or local.exists() \
            or str(name_or_path).count("/") != 1
        if looks_local and not local.is_dir():
            raise FileNotFoundError(f"teacher {name_or_path}: no such directory (give a directory written by "
                                    "save_pretrained, or a hub id such as facebook/wav2vec2-base)")
        try:
            self.model = Wav2Vec2Model.from_pretrained(str(name_or_path))
        except OSError as exc:
            raise FileNotFoundError(f"cannot load a Wav2Vec2 model from {name_or_path}: {exc}") from None
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.layers = layers
        self.do_normalize = self._do_normalize(name_or_path)
        self.name = str(local.resolve()) if local.is_dir() else str(name_or_path)  # valid from any directory
        cfg = self.model.config
        self.dim = cfg.hidden_size
        self.num_hidden = cfg.num_hidden_layers + 1
        kernels, strides = list(cfg.conv_kernel), list(cfg.conv_stride)
        rf, hop = 1, 1
        for k, s in zip(kernels, strides):
            rf += (k - 1) * hop
            hop *= s
        if (rf, hop) != (stft.WIN, stft.HOP):
            raise ValueError(f"{name_or_path}: feature encoder has a {rf}-sample receptive field and a {hop}-sample "
                             f"stride; the recipe needs {stft.WIN} and {stft.HOP} (Wav2Vec2's)")

    @staticmethod
    def _do_normalize(name_or_path) -> bool:
        from transformers import Wav2Vec2FeatureExtractor
        try:
            return bool(Wav2Vec2FeatureExtractor.from_pretrained(str(name_or_path)).do_normalize)
        except OSError:
            log.info("%s: no feature-extractor config; normalising inputs (the wav2vec 2.0 default)", name_or_path)
            return True

    def train(self, mode: bool = True):
        """The teacher stays in eval mode (no dropout) whatever its parent does."""
        super().train(mode)
        self.model.eval()
        return self

    def normalize(self, wav: torch.Tensor) -> torch.Tensor:
        """Zero mean, unit variance per utterance (Wav2Vec2FeatureExtractor's formula)."""
        if not self.do_normalize:
            return wav
        mean = wav.mean(dim=-1, keepdim=True)
        var = wav.var(dim=-1, unbiased=False, keepdim=True)
        return (wav - mean) / torch.sqrt(var + 1e-7)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        n = wav.shape[-1]
        x = F.pad(self.normalize(wav), (0, stft.padded_length(n) - n))
        out = self.model(x, output_hidden_states=(self.layers == "all"))
        if self.layers == "last":
            return out.last_hidden_state
        return torch.stack(out.hidden_states, dim=1)
