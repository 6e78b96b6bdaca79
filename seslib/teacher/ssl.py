"""Self-supervised speech encoders of ``transformers`` with Wav2Vec2's 400/320 front end.

Wav2Vec2 (the paper's ``facebook/wav2vec2-base``), HuBERT, WavLM and Data2VecAudio share
the convolutional feature encoder whose receptive field (400 samples) and stride (320) the
GCRN copies (paper, Sec. 2), so teacher frame ``t`` and GCRN frame ``t`` cover the same
samples ``[320 t, 320 t + 400)`` once the input is zero-padded to
:func:`seslib.stft.padded_length`, as the GCRN pads its own.

Input normalisation is each model's own. Where the model's feature-extractor config exists
(``preprocessor_config.json``) its ``do_normalize`` decides. Where it does not, a model
whose first conv layer is group-normalised (``feat_extract_norm: group``, the fairseq
*base* models) is fed the raw waveform, as fairseq trained it (``normalize: false`` in its
base configs), and a layer-normalised one (the *large* models) a zero-mean, unit-variance
one. ``facebook/wav2vec2-base`` is an exception listed in :data:`RAW_INPUT`: its hub
feature-extractor config says ``do_normalize: true``, but the fairseq checkpoint it was
converted from was pre-trained on raw waveforms. Normalisation runs in torch, so gradients
reach the waveform (output distillation, Sec. 2.4).
"""
from __future__ import annotations

import logging

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import stft

log = logging.getLogger(__name__)

#: model_type -> transformers class name, the families with the 400/320 conv front end.
FAMILIES = {"wav2vec2": "Wav2Vec2Model", "hubert": "HubertModel", "wavlm": "WavLMModel",
            "data2vec-audio": "Data2VecAudioModel"}
#: hub ids pre-trained on raw waveforms whatever their feature-extractor config says.
RAW_INPUT = {"facebook/wav2vec2-base"}


def conv_geometry(config) -> tuple[int, int]:
    """Receptive field and stride in samples of a conv feature encoder."""
    rf, hop = 1, 1
    for k, s in zip(config.conv_kernel, config.conv_stride):
        rf += (k - 1) * hop
        hop *= s
    return rf, hop


def model_class(model_type: str):
    import transformers
    return getattr(transformers, FAMILIES[model_type])


def input_normalisation(source: str, config) -> bool:
    """Whether the model was trained on zero-mean, unit-variance waveforms (module docstring)."""
    if source in RAW_INPUT:
        return False
    from transformers import AutoFeatureExtractor
    try:
        fe = AutoFeatureExtractor.from_pretrained(source)
        return bool(getattr(fe, "do_normalize", False))
    except (OSError, ValueError):
        norm = getattr(config, "feat_extract_norm", "group") == "layer"
        log.info("%s: no feature-extractor config; %s the input (feat_extract_norm: %s)", source,
                 "normalising" if norm else "not normalising", getattr(config, "feat_extract_norm", "group"))
        return norm


class SSLEncoder(nn.Module):
    """A transformers SSL encoder returning every hidden state on GCRN-aligned frames.

    Args:
        model: a ``Wav2Vec2Model``-like module (one of :data:`FAMILIES`).
        do_normalize: normalise each utterance to zero mean and unit variance first.

    Shape:
        ``[B, N]`` -> list of ``L + 1`` tensors ``[B, T, D]`` (the conv projection, then each
        transformer layer), ``T = num_frames(padded_length(N))``.
    """

    def __init__(self, model: nn.Module, do_normalize: bool):
        super().__init__()
        self.model, self.do_normalize = model, do_normalize
        cfg = model.config
        self.dim, self.num_hidden = cfg.hidden_size, cfg.num_hidden_layers + 1
        rf, hop = conv_geometry(cfg)
        if (rf, hop) != (stft.WIN, stft.HOP):
            raise ValueError(f"feature encoder has a {rf}-sample receptive field and a {hop}-sample stride; "
                             f"the recipe needs {stft.WIN} and {stft.HOP} (Wav2Vec2's)")

    def normalize(self, wav: torch.Tensor) -> torch.Tensor:
        """Zero mean, unit variance per utterance (Wav2Vec2FeatureExtractor's formula)."""
        if not self.do_normalize:
            return wav
        mean = wav.mean(dim=-1, keepdim=True)
        var = wav.var(dim=-1, unbiased=False, keepdim=True)
        return (wav - mean) / torch.sqrt(var + 1e-7)

    def forward(self, wav: torch.Tensor) -> list[torch.Tensor]:
        n = wav.shape[-1]
        x = F.pad(self.normalize(wav), (0, stft.padded_length(n) - n))
        return list(self.model(x, output_hidden_states=True).hidden_states)


def load(source: str, config, random_init: bool) -> SSLEncoder:
    """An :class:`SSLEncoder` from a hub id or directory (``config``: its AutoConfig)."""
    cls = model_class(config.model_type)
    rf, hop = conv_geometry(config)
    if (rf, hop) != (stft.WIN, stft.HOP):  # before loading weights
        raise ValueError(f"{source}: feature encoder has a {rf}-sample receptive field and a {hop}-sample stride; "
                         f"the recipe needs {stft.WIN} and {stft.HOP} (Wav2Vec2's)")
    model = cls(config) if random_init else cls.from_pretrained(source)
    return SSLEncoder(model, input_normalisation(source, config))
