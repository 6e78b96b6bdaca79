"""Causal gated convolutional recurrent network (GCRN) for complex spectral mapping.

After Tan & Wang, "Learning complex spectral mapping with gated convolutional recurrent
networks for monaural speech enhancement" (IEEE/ACM TASLP 28, 2019), sized for the
paper's on-device constraint (< 4 M parameters, Sec. 2.1) and fed the 25/20 ms STFT of
:mod:`seslib.stft`, so that its bottleneck runs at Wav2Vec2's 50 Hz frame rate:

- encoder: gated (GLU) 2-D convolutions, kernel (2, 3) in (time, frequency), stride 2
  along frequency, one frame of causal padding in time; batch norm and ELU;
- bottleneck: grouped LSTM (features split into groups, one LSTM per group, groups
  interleaved between layers); its output is the embedding ``encode()`` returns;
- two decoders (real and imaginary part), gated transposed convolutions with skip
  connections from the encoder, then a linear layer over frequency.

Every layer looks at the current and the previous frame only, so the network is causal
and runs frame by frame (:class:`GCRNStreamer`) with the same result as offline.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import stft as S
from ..engine import float32

DEFAULT_CONFIG = {
    "channels": [16, 20, 28, 36, 64],
    "lstm_groups": 2,
    "lstm_layers": 2,
    "skips": "encoder",
    "bridge": 0,
}


#: what a decoder layer reads beside its input (GCRN's ``skips``); the last two need no encoder
SKIPS = ("encoder", "duplicate", "upsample")
NO_ENCODER_SKIPS = SKIPS[1:]


def upsample_fold(h: torch.Tensor) -> torch.Tensor:
    """``h`` upsampled x2 along frequency (linear, half-pixel centres), its even and odd output bins
    stacked as channels: bin f gets 0.75 h[f] + 0.25 h[f-1] and 0.75 h[f] + 0.25 h[f+1] (edges
    repeated). Frame by frame, so causal.

    Shape:
        ``[B, C, T, F]`` -> ``[B, 2C, T, F]``
    """
    B, C, T, Fq = h.shape
    u = F.interpolate(h.reshape(B, C * T, 1, Fq), size=(1, 2 * Fq), mode="bilinear", align_corners=False)
    u = u.reshape(B, C, T, 2 * Fq)
    return torch.cat([u[..., 0::2], u[..., 1::2]], dim=1)


def freq_sizes(n_bins: int, n_layers: int) -> list[int]:
    """Frequency size after each encoder layer (kernel 3, stride 2, no padding)."""
    sizes = [n_bins]
    for _ in range(n_layers):
        sizes.append((sizes[-1] - 3) // 2 + 1)
    return sizes


class GatedConv(nn.Module):
    """Causal gated conv: ``ELU(BN(conv_a(x) * sigmoid(conv_b(x))))``.

    Shape:
        ``[B, C_in, T, F] -> [B, C_out, T, (F - 3) // 2 + 1]``
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, 2 * c_out, kernel_size=(2, 3), stride=(1, 2))
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.step(F.pad(x, (0, 0, 1, 0)))

    def step(self, x2: torch.Tensor) -> torch.Tensor:
        """On input that already holds the previous frame: ``[B, C, T + 1, F]`` -> ``T`` frames."""
        return F.elu(self.norm(F.glu(self.conv(x2), dim=1)))


class GatedDeconv(nn.Module):
    """Causal gated transposed conv, frequency upsampled by 2; the last layer of a decoder
    has no norm and no activation.

    Shape:
        ``[B, C_in, T, F] -> [B, C_out, T, 2 (F - 1) + 3 + output_padding]``
    """

    def __init__(self, c_in: int, c_out: int, output_padding: int, last: bool = False):
        super().__init__()
        self.conv = nn.ConvTranspose2d(c_in, 2 * c_out, kernel_size=(2, 3), stride=(1, 2),
                                       output_padding=(0, output_padding))
        self.norm = None if last else nn.BatchNorm2d(c_out)

    def _post(self, y: torch.Tensor) -> torch.Tensor:
        y = F.glu(y, dim=1)
        return y if self.norm is None else F.elu(self.norm(y))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[2]
        return self._post(self.conv(x)[:, :, :T])  # output t = W0 x_t + W1 x_{t-1}

    def step(self, x2: torch.Tensor) -> torch.Tensor:
        """On ``[B, C, 2, F]`` (previous and current frame) -> the current output frame."""
        return self._post(self.conv(x2)[:, :, 1:2])


class GroupedLSTM(nn.Module):
    """Grouped LSTM (Tan & Wang, 2019): features split into ``groups``, one LSTM each,
    groups interleaved between layers so that information crosses groups.

    Runs in float32 whatever autocast is active (seslib.engine.float32): cuDNN's bfloat16 LSTMs
    depend on its version, and the recurrence accumulates rounding over every frame.

    Shape:
        ``[B, T, D] -> [B, T, D]``
    """

    def __init__(self, width: int, groups: int, layers: int):
        super().__init__()
        if width % groups:
            raise ValueError(f"LSTM width {width} is not divisible by {groups} groups")
        self.groups, self.width = groups, width
        h = width // groups
        self.layers = nn.ModuleList(
            nn.ModuleList(nn.LSTM(h, h, batch_first=True) for _ in range(groups)) for _ in range(layers))

    def _shuffle(self, y: torch.Tensor) -> torch.Tensor:
        B, T, _ = y.shape
        return y.reshape(B, T, self.groups, -1).transpose(2, 3).reshape(B, T, self.width)

    def forward(self, x: torch.Tensor, state=None):
        """Returns ``(y, state)``; ``state`` is a list (layer) of lists (group) of ``(h, c)``."""
        return float32(self._forward)(x, state)

    def _forward(self, x: torch.Tensor, state=None):
        new_state = []
        for li, lstms in enumerate(self.layers):
            if li:
                x = self._shuffle(x)
            outs, st = [], []
            for gi, (lstm, xg) in enumerate(zip(lstms, x.chunk(self.groups, dim=-1))):
                y, hc = lstm(xg, None if state is None else state[li][gi])
                outs.append(y)
                st.append(hc)
            x = torch.cat(outs, dim=-1)
            new_state.append(st)
        return x, new_state


class GCRN(nn.Module):
    """The paper's base enhancer f_e (Sec. 2.1, Fig. 1), trained with eq. (1).

    ``GCRN()`` builds the default model; ``model(noisy)`` enhances waveforms.

    Args:
        channels: encoder output channels per layer (the decoders mirror them).
        lstm_groups: groups of the grouped LSTM.
        lstm_layers: LSTM layers.
        skips: what each decoder layer takes beside its input: ``encoder`` (the encoder's
            features at that resolution, the GCRN's skip connections), or, for the decoder of
            the pre-training from teacher embeddings, which has no encoder (paper, Sec. 2.5,
            "locally duplicating by a factor of 2"), ``duplicate`` (``[h, h]``: its input
            again) or ``upsample`` (``h`` upsampled x2 along frequency, linearly, its even
            and odd bins as the two channel halves). Neither gives a layer anything beyond
            ``h``: for a convolution with weights ``[W_a, W_b]``, ``duplicate`` is the same
            as no skip with ``W_a + W_b``; ``upsample`` is a fixed filter of ``h`` along
            frequency before the layer's own (a wider effective kernel). A model fine-tuned
            from such a decoder (``skips: encoder``) applies ``W_b`` to encoder features it
            never saw in pre-training.
        bridge: 0, or a teacher's width D: the bottleneck then passes through ``to_teacher``
            (P, D outputs) and ``from_teacher`` (M, back to the bottleneck width) before the
            decoders, the maps of the encoder and decoder pre-training (Sec. 2.5).

    Shape:
        ``forward``: ``[B, N]`` float waveform at 16 kHz -> ``[B, N]``.
    """

    def __init__(self, channels=None, lstm_groups: int = None, lstm_layers: int = None, skips: str = "encoder",
                 bridge: int = 0):
        super().__init__()
        channels = list(channels or DEFAULT_CONFIG["channels"])
        lstm_groups = lstm_groups or DEFAULT_CONFIG["lstm_groups"]
        lstm_layers = lstm_layers or DEFAULT_CONFIG["lstm_layers"]
        if skips not in SKIPS:
            raise ValueError(f"GCRN skips must be one of {', '.join(SKIPS)}, not {skips!r}")
        if not isinstance(bridge, int) or bridge < 0:
            raise ValueError(f"GCRN bridge must be 0 or a teacher width, not {bridge!r}")
        self.config = {"channels": channels, "lstm_groups": lstm_groups, "lstm_layers": lstm_layers,
                       "skips": skips, "bridge": bridge}
        fs = freq_sizes(S.N_BINS, len(channels))
        if fs[-1] < 1:
            raise ValueError(f"{len(channels)} encoder layers leave no frequency bins")
        self.freqs = fs
        ins = [2] + channels[:-1]
        self.encoder = nn.ModuleList(GatedConv(ci, co) for ci, co in zip(ins, channels))
        self.embed_dim = channels[-1] * fs[-1]
        self.lstm = GroupedLSTM(self.embed_dim, lstm_groups, lstm_layers)
        self.decoders = nn.ModuleList()
        for _ in range(2):  # real, imaginary
            layers = nn.ModuleList()
            for i in reversed(range(len(channels))):
                c_out = channels[i - 1] if i else 1
                op = fs[i] - (2 * (fs[i + 1] - 1) + 3)
                layers.append(GatedDeconv(2 * channels[i], c_out, op, last=(i == 0)))
            self.decoders.append(layers)
        self.out = nn.ModuleList(nn.Linear(S.N_BINS, S.N_BINS) for _ in range(2))
        self.to_teacher = nn.Linear(self.embed_dim, bridge) if bridge else None
        self.from_teacher = nn.Linear(bridge, self.embed_dim) if bridge else None

    # -- offline -------------------------------------------------------------------
    def encode(self, noisy: torch.Tensor, return_context: bool = False):
        """The 50 Hz bottleneck embedding (grouped-LSTM output), the distillation point.

        Frame ``t`` of the embedding sees input samples ``[0, 320 t + 400)``; the input is
        zero-padded to :func:`seslib.stft.padded_length`, so there are
        ``num_frames(padded_length(N))`` frames, Wav2Vec2's count or one more (see
        :func:`seslib.stft.align_frames`).

        Shape:
            ``[B, N]`` -> ``[B, T, D]``; with ``return_context`` also the context that
            :meth:`decode` needs.
        """
        N = noisy.shape[-1]
        x = F.pad(noisy, (0, S.padded_length(N) - N))
        spec = S.stft(x)
        h = torch.stack([spec.real, spec.imag], dim=1)  # [B, 2, T, F]
        skips = []
        for layer in self.encoder:
            h = layer(h)
            skips.append(h)
        B, C, T, Fq = h.shape
        emb, _ = self.lstm(h.permute(0, 2, 1, 3).reshape(B, T, C * Fq))
        return (emb, {"skips": skips, "length": N}) if return_context else emb

    def decode(self, emb: torch.Tensor, context: dict) -> torch.Tensor:
        """Embedding (and encoder skips) -> enhanced waveform; through the bridge, if any.

        Shape:
            ``[B, T, D]`` -> ``[B, N]``
        """
        if self.from_teacher is not None:
            emb = self.from_teacher(self.to_teacher(emb))
        return self._decode(emb, context["skips"], context["length"])

    def decode_teacher(self, g: torch.Tensor, length: int) -> torch.Tensor:
        """Teacher embeddings -> waveform of ``length`` samples: the decoders on ``from_teacher(g)``
        (needs ``bridge`` and skips ``duplicate`` or ``upsample``). ``g`` is cut or extended to the model's
        frame count of ``length`` samples (:func:`seslib.stft.align_frames`).

        Shape:
            ``[B, T', D_teacher]`` -> ``[B, length]``
        """
        if self.from_teacher is None or self.config["skips"] not in NO_ENCODER_SKIPS:
            raise ValueError("decode_teacher needs a GCRN with bridge (the teacher's width) and skips: duplicate "
                             "or upsample")
        T = S.num_frames(S.padded_length(length))
        return self._decode(self.from_teacher(S.align_frames(g, T)), None, length)

    def _skip(self, h: torch.Tensor, skip) -> torch.Tensor:
        how = self.config["skips"]
        if how == "upsample":
            return upsample_fold(h)
        return torch.cat([h, h if how == "duplicate" else skip], dim=1)

    def _decode(self, emb: torch.Tensor, skips, length: int) -> torch.Tensor:
        B, T, _ = emb.shape
        C, Fq = self.config["channels"][-1], self.freqs[-1]
        h0 = emb.reshape(B, T, C, Fq).permute(0, 2, 1, 3)
        parts = []
        for dec, lin in zip(self.decoders, self.out):
            h = h0
            for j, layer in enumerate(dec):
                h = layer(self._skip(h, None if skips is None else skips[-1 - j]))
            parts.append(lin(h[:, 0]))
        spec = complex_spec(parts[0], parts[1])
        return S.istft(spec, length=S.padded_length(length))[:, :length]

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        emb, ctx = self.encode(noisy, return_context=True)
        return self.decode(emb, ctx)

    # -- frame by frame --------------------------------------------------------------
    def step(self, spec_t: torch.Tensor, state: dict | None):
        """One frame of the network, with carried state (conv caches and LSTM states).

        Shape:
            ``spec_t``: ``[B, 257]`` complex -> ``([B, 257]`` complex, new state).
        """
        h = torch.stack([spec_t.real, spec_t.imag], dim=1)[:, :, None, :]  # [B, 2, 1, F]
        if state is None:
            state = {"enc": [torch.zeros_like(h)] + [None] * (len(self.encoder) - 1), "lstm": None,
                     "dec": [[None] * len(self.encoder) for _ in range(2)]}
        new = {"enc": [], "lstm": None, "dec": [[], []]}
        skips = []
        for i, layer in enumerate(self.encoder):
            prev = state["enc"][i] if state["enc"][i] is not None else torch.zeros_like(h)
            new["enc"].append(h)
            h = layer.step(torch.cat([prev, h], dim=2))
            skips.append(h)
        B, C, _, Fq = h.shape
        emb, new["lstm"] = self.lstm(h.permute(0, 2, 1, 3).reshape(B, 1, C * Fq), state["lstm"])
        if self.from_teacher is not None:
            emb = self.from_teacher(self.to_teacher(emb))
        h0 = emb.reshape(B, 1, C, Fq).permute(0, 2, 1, 3)
        parts = []
        for d, (dec, lin) in enumerate(zip(self.decoders, self.out)):
            h = h0
            for j, (layer, skip) in enumerate(zip(dec, reversed(skips))):
                x = self._skip(h, skip)
                prev = state["dec"][d][j] if state["dec"][d][j] is not None else torch.zeros_like(x)
                new["dec"][d].append(x)
                h = layer.step(torch.cat([prev, x], dim=2))
            parts.append(lin(h[:, 0, 0]))
        return complex_spec(parts[0], parts[1]), new

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


@float32
def complex_spec(real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
    """``real + j imag`` in float32 (``torch.complex`` takes no bfloat16 under mixed precision)."""
    return torch.complex(real, imag)


class GCRNStreamer:
    """Frame-by-frame enhancement with carried state; gives :meth:`GCRN.forward`'s output.

    Push audio in chunks of any size; every complete 20 ms hop comes back as soon as the
    frame that finishes it is known. Algorithmic latency: one window (400 samples, 25 ms)
    plus one sample (a frame is processed once the sample after it shows it is not the
    last one, whose window differs).

    Example::

        s = GCRNStreamer(model)
        out = [s.push(chunk) for chunk in chunks] + [s.flush()]
    """

    def __init__(self, model: GCRN):
        self.model = model.eval()
        self.w = S.sqrt_tukey()
        self.reset()

    def reset(self) -> None:
        self.buf = torch.zeros(0)
        self.t = 0  # next frame index
        self.n_in = 0
        self.n_out = 0
        self.state = None
        self.ola = torch.zeros(S.WIN)

    def _frame(self, frame: torch.Tensor, last: bool) -> torch.Tensor:
        w = self.w.clone()
        if self.t == 0:
            w[:S.TAPER] = 1.0
        if last:
            w[S.WIN - S.TAPER:] = 1.0
        spec = torch.fft.rfft(frame * w, n=S.N_FFT)[None]
        with torch.no_grad():
            out, self.state = self.model.step(spec, self.state)
        y = torch.fft.irfft(out[0], n=S.N_FFT)[:S.WIN] * w
        self.ola = torch.cat([self.ola[S.HOP:], torch.zeros(S.HOP)]) if self.t else self.ola
        self.ola = self.ola + y
        self.t += 1
        return self.ola

    def push(self, chunk: torch.Tensor) -> torch.Tensor:
        """Feed samples ``[n]``; return the enhanced samples that are final now."""
        self.buf = torch.cat([self.buf, chunk.float().reshape(-1)])
        self.n_in += chunk.numel()
        outs = []
        # frame t spans [320 t, 320 t + 400); it is not the last once sample 320 t + 400 exists
        while self.n_in > S.HOP * self.t + S.WIN:
            start = S.HOP * self.t - (self.n_in - len(self.buf))
            ola = self._frame(self.buf[start:start + S.WIN], last=False)
            outs.append(ola[:S.HOP].clone())
            self.n_out += S.HOP
        keep = S.HOP * self.t - (self.n_in - len(self.buf))
        self.buf = self.buf[keep:]
        return torch.cat(outs) if outs else torch.zeros(0)

    def flush(self) -> torch.Tensor:
        """End of input: process the last frame(s) and return the remaining samples."""
        total = self.n_in
        L = S.padded_length(total)
        pad = torch.zeros(L - total)
        self.buf = torch.cat([self.buf, pad])
        outs = []
        while S.HOP * self.t + S.WIN <= L:
            last = S.HOP * self.t + S.WIN == L
            ola = self._frame(self.buf[:S.WIN], last=last)
            self.buf = self.buf[S.HOP:]
            outs.append(ola[:S.WIN].clone() if last else ola[:S.HOP].clone())
            self.n_out += S.WIN if last else S.HOP
        y = torch.cat(outs) if outs else torch.zeros(0)
        already = self.n_out - len(y)
        y = y[: max(0, total - already)]
        self.reset()
        return y


def enhance_streaming(model: GCRN, noisy: torch.Tensor, chunk: int = 320) -> torch.Tensor:
    """Enhance a ``[N]`` waveform frame by frame, fed ``chunk`` samples at a time."""
    s = GCRNStreamer(model)
    outs = [s.push(noisy[i:i + chunk]) for i in range(0, len(noisy), chunk)]
    outs.append(s.flush())
    return torch.cat(outs)


def count_macs_per_second(model: GCRN) -> dict:
    """Analytic multiply-accumulates per second of audio (50 frames/s), by part."""
    fs = model.freqs
    ch = [2] + model.config["channels"]
    enc = sum(2 * ch[i + 1] * ch[i] * 6 * fs[i + 1] for i in range(len(ch) - 1))
    dec = 0
    for d in range(2):
        for i in reversed(range(len(ch) - 1)):
            c_in, c_out = 2 * ch[i + 1], (ch[i] if i else 1)
            dec += 2 * c_out * c_in * 6 * fs[i + 1]  # each input position feeds a 2x3 kernel
    h = model.embed_dim // model.config["lstm_groups"]
    lstm = model.config["lstm_layers"] * model.config["lstm_groups"] * 4 * (h * h + h * h)
    lin = 2 * S.N_BINS * S.N_BINS
    per_frame = {"encoder": enc, "lstm": lstm, "decoders": dec, "output_linear": lin}
    fps = 16000 / S.HOP
    out = {k: v * fps for k, v in per_frame.items()}
    out["total"] = sum(out.values())
    out["fft"] = fps * 2 * 5 * S.N_FFT * math.log2(S.N_FFT) / 2  # rough, not counted in total
    return out
