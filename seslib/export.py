"""The GCRN as one streaming step for devices: ONNX export and an onnxruntime runner.

One call of the step takes one 20 ms hop of new samples and gives one hop of enhanced
samples, with every piece of memory an explicit input and output:

- ``buffer`` ``[1, 320]``: the previous hop of input samples;
- ``ola`` ``[1, 80]``: the overlap-add tail of the previous frame's output;
- ``enc<i>``: the previous input frame of encoder layer ``i`` ``[1, C, 1, F]``;
- ``h<l>``, ``c<l>``: the LSTM state of layer ``l``, its groups stacked ``[G, 1, H]``;
- ``dec<j>``: the previous input frame of layer ``j`` of both decoders (layer 0: the
  bottleneck and the last encoder output, which both read; layer ``j > 0``: the real part's
  decoder output, then the imaginary part's; the previous encoder skip is ``enc<i+1>``).

Call ``k`` (k >= 1) receives samples ``[320 k, 320 k + 320)`` and analyses frame ``k - 1``
(samples ``[320 (k - 1), 320 k + 80)``: the buffer and the hop's first 80 samples), so it
returns samples ``[320 (k - 1), 320 k)``, final: the algorithmic latency is one window,
400 samples (25 ms). The driver primes ``buffer`` with samples ``[0, 320)``, sets ``first``
on call 1 and ``last`` on the call of the final frame (the windows of the first and last
frame are flat at the signal's edges, :mod:`seslib.stft`), and after it appends ``ola``.
:func:`run_steps` is that driver, for any callable step; it reproduces the offline
``GCRN.forward`` on a whole file.

The DFT and its inverse are matrix products with fixed cosine/sine tables (no FFT op in the
graph), and the model's batch norms are in eval mode (affine), so the graph holds only
MatMul/Conv/ConvTranspose and elementwise operators.
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import stft as S

#: metadata keys of an exported model (onnx ``metadata_props``)
META_FORMAT = "seslib-gcrn-stream-1"


def _dft_tables():
    n = torch.arange(S.WIN, dtype=torch.float64)[:, None]
    k = torch.arange(S.N_BINS, dtype=torch.float64)[None, :]
    ang = 2 * math.pi * n * k / S.N_FFT  # [400, 257]
    fwd_re, fwd_im = torch.cos(ang), -torch.sin(ang)
    a = torch.full((S.N_BINS, 1), 2.0 / S.N_FFT, dtype=torch.float64)
    a[0] = a[-1] = 1.0 / S.N_FFT
    inv_re, inv_im = a * torch.cos(ang.T), -a * torch.sin(ang.T)  # [257, 400]
    return [t.float() for t in (fwd_re, fwd_im, inv_re, inv_im)]


def state_shapes(model) -> dict[str, list[int]]:
    """Name -> shape of every state tensor of ``model``'s streaming step, in input order."""
    ch = [2] + list(model.config["channels"])
    fs = model.freqs
    L = len(model.encoder)
    shapes = {"buffer": [1, S.HOP], "ola": [1, S.WIN - S.HOP]}
    for i in range(L):
        shapes[f"enc{i}"] = [1, ch[i], 1, fs[i]]
    G = model.config["lstm_groups"]
    for li in range(model.config["lstm_layers"]):
        shapes[f"h{li}"] = [G, 1, model.embed_dim // G]
        shapes[f"c{li}"] = [G, 1, model.embed_dim // G]
    for j in range(L):  # both decoders (see _Decoders)
        i = L - 1 - j
        shapes[f"dec{j}"] = [1, 2 * ch[i + 1], 1, fs[i + 1]]
    return shapes


class _Encoder(nn.Module):
    """The encoder's gated convs on one frame, each with its cache of the previous input frame."""

    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, h, *caches):
        skips, new = [], []
        for layer, cache in zip(self.layers, caches):
            new.append(h)
            h = layer.step(torch.cat([cache, h], dim=2))
            skips.append(h)
        return (*skips, *new)


class _LSTM(nn.Module):
    """The grouped LSTM on one frame, as matrix products: per layer and group one
    ``[x_g, h_g] @ W_g`` with a 2-D weight (an ONNX LSTM node per group costs more in per-node
    overhead than its arithmetic at one frame; one batched product over the groups, with a 3-D
    weight, is as fast in float but its int8 form is not: onnxruntime's fused int8 product
    takes 2-D weights, and the LSTM, 80 % of the weights, reads them from memory at every
    frame, so int8 pays most here). States ``h<l>``, ``c<l>`` per layer, ``[G, 1, H]``.

    With the gates of :class:`torch.nn.LSTM` reordered to ``(i, f, o, g)``:
    ``[i, f, o] = sigmoid(.)``, ``g = tanh(.)``, ``c' = f c + i g``, ``h' = o tanh(c')``.
    """

    def __init__(self, lstm):
        super().__init__()
        self.groups, self.width = lstm.groups, lstm.width
        H = lstm.width // lstm.groups
        for li, cells in enumerate(lstm.layers):
            w, b = [], []
            for cell in cells:
                order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
                wih, whh = cell.weight_ih_l0.detach()[order], cell.weight_hh_l0.detach()[order]
                w.append(torch.cat([wih, whh], dim=1).T)  # [2H, 4H]
                b.append((cell.bias_ih_l0.detach() + cell.bias_hh_l0.detach())[order][None])
            self.register_buffer(f"w{li}", torch.stack(w))  # [G, 2H, 4H]
            self.register_buffer(f"b{li}", torch.stack(b))  # [G, 1, 4H]
        self.n_layers, self.hidden = len(lstm.layers), H
        self.shuffle = lstm._shuffle

    def forward(self, x, *hc):
        G, H, new = self.groups, self.hidden, []
        for li in range(self.n_layers):
            if li:  # interleave the groups
                x = self.shuffle(x.reshape(1, 1, G * H))
            w, b = getattr(self, f"w{li}"), getattr(self, f"b{li}")
            xs, hs = x.reshape(G, H).chunk(G, dim=0), hc[2 * li].reshape(G, H).chunk(G, dim=0)
            z = torch.stack([torch.cat([xs[g], hs[g]], dim=-1) @ w[g] for g in range(G)]) + b
            sig, g = z.split([3 * H, H], dim=-1)
            i, f, o = torch.sigmoid(sig).chunk(3, dim=-1)
            c = f * hc[2 * li + 1] + i * torch.tanh(g)
            h = o * torch.tanh(c)
            new += [h, c]
            x = h
        return (x.reshape(1, 1, G * H), *new)


class _Decoders(nn.Module):
    """The bridge (if any), both decoders and the output layers on one frame, the two decoders
    computed together (half the nodes of two separate decoders; the same products).

    A transposed conv with a 2-frame kernel run on [previous, current] frame computes three
    output frames of which a step keeps one: half its work is thrown away. Each is folded here
    into one (1, 3) transposed conv over the two frames stacked as channels, which computes only
    the kept frame: ``out_t = W[:, :, 0] x_t + W[:, :, 1] x_(t-1) + b``.

    Both decoders' first layers read the same input (the bottleneck and the last encoder
    output): one transposed conv with their output channels side by side, ordered so that one
    GLU gates both. Every later layer ``j`` is a transposed conv of two groups, group ``d``
    reading decoder ``d``'s previous and current input; the previous frame of the encoder skip
    it reads is the encoder's own cache (``enc<i+1>``), so the state ``dec<j>`` holds only the
    decoders' previous input ``h`` (real part's channels, then the imaginary part's). The batch
    norms of the two decoders are one norm over their channels side by side.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        L = len(model.encoder)
        self.n = L
        for j in range(L):
            pair = [dec[j] for dec in model.decoders]
            folded = [torch.cat([lay.conv.weight.detach()[:, :, 1:2], lay.conv.weight.detach()[:, :, 0:1]], dim=0)
                      for lay in pair]  # per decoder [2 C_in (previous, current), 2 C_out, 1, 3]
            bias = [lay.conv.bias.detach() for lay in pair]
            c = folded[0].shape[1] // 2
            if j == 0:  # output channels [value 0, value 1, gate 0, gate 1]: one GLU gates both
                w = torch.cat([folded[0][:, :c], folded[1][:, :c], folded[0][:, c:], folded[1][:, c:]], dim=1)
                b = torch.cat([bias[0][:c], bias[1][:c], bias[0][c:], bias[1][c:]])
            else:  # two groups: input channels [decoder 0's, decoder 1's], outputs likewise
                w, b = torch.cat(folded, dim=0), torch.cat(bias)
            self.register_buffer(f"w{j}", w)
            self.register_buffer(f"b{j}", b)
            norms = [lay.norm for lay in pair]
            if norms[0] is not None:
                for key in ("running_mean", "running_var", "weight", "bias"):
                    self.register_buffer(f"{key}{j}", torch.cat([getattr(nm, key).detach() for nm in norms]))
                self.eps = norms[0].eps
        self.output_padding = [dec_layer.conv.output_padding[1] for dec_layer in model.decoders[0]]

    def _post(self, j, y):
        if hasattr(self, f"running_mean{j}"):
            y = F.elu(F.batch_norm(y, getattr(self, f"running_mean{j}"), getattr(self, f"running_var{j}"),
                                   getattr(self, f"weight{j}"), getattr(self, f"bias{j}"), False, 0.0, self.eps))
        return y

    def forward(self, x, skips, enc_caches, caches):
        """``skips``: the encoder outputs of this frame; ``enc_caches``: the encoder's input caches
        (the previous frame's skips); ``caches``: the states ``dec<j>``. Returns the two output
        layers' spectra and the new ``dec<j>``."""
        m, n = self.model, self.n
        if m.from_teacher is not None:
            x = m.from_teacher(m.to_teacher(x))
        C, Fq = m.config["channels"][-1], m.freqs[-1]
        h = x.reshape(1, 1, C, Fq).permute(0, 2, 1, 3)
        new = []
        for j in range(n):
            i = n - 1 - j
            if j == 0:
                xin = torch.cat([h, skips[i]], dim=1)
                new.append(xin)
                inp, groups = torch.cat([caches[0], xin], dim=1), 1
            else:
                new.append(h)
                prev, cur = caches[j].chunk(2, dim=1), h.chunk(2, dim=1)
                s_prev = enc_caches[i + 1]
                inp, groups = torch.cat([prev[0], s_prev, cur[0], skips[i], prev[1], s_prev, cur[1], skips[i]], dim=1), 2
            y = F.conv_transpose2d(inp, getattr(self, f"w{j}"), getattr(self, f"b{j}"), stride=(1, 2),
                                   output_padding=(0, self.output_padding[j]), groups=groups)
            if j == 0:
                y = F.glu(y, dim=1)
            else:  # [value 0, gate 0, value 1, gate 1] -> [GLU 0, GLU 1]
                y = F.glu(y.reshape(1, 2, y.shape[1] // 2, y.shape[-1]), dim=2).reshape(1, y.shape[1] // 2, 1, y.shape[-1])
            h = self._post(j, y)
        parts = [lin(h[:, d, 0]) for d, lin in enumerate(m.out)]
        return (*parts, *new)


class StreamingStep(nn.Module):
    """One hop of a :class:`seslib.models.GCRN` with explicit state (see the module docstring).

    Args:
        model: a GCRN with encoder skips (a decoder of teacher embeddings has no noisy input
            to stream).

    Shape:
        ``forward(hop [1, 320], first [1], last [1], *states) -> (out [1, 320], *new_states)``,
        states in the order of :func:`state_shapes`.
    """

    def __init__(self, model):
        super().__init__()
        check_streamable(model)
        model = model.eval()
        self.names = list(state_shapes(model))
        self.n_layers = len(model.encoder)
        self.encoder, self.lstm, self.decoders = _Encoder(model.encoder), _LSTM(model.lstm), _Decoders(model)
        w = S.sqrt_tukey()
        self.register_buffer("window", w[None])
        start = torch.zeros(1, S.WIN)
        start[0, :S.TAPER] = 1 - w[:S.TAPER]
        end = torch.zeros(1, S.WIN)
        end[0, S.WIN - S.TAPER:] = 1 - w[S.WIN - S.TAPER:]
        self.register_buffer("start_fix", start)
        self.register_buffer("end_fix", end)
        for name, t in zip(("fwd_re", "fwd_im", "inv_re", "inv_im"), _dft_tables()):
            self.register_buffer(name, t)

    def forward(self, hop, first, last, *states):
        st = dict(zip(self.names, states))
        n = self.n_layers
        w = self.window + first[:, None] * self.start_fix + last[:, None] * self.end_fix
        frame = torch.cat([st["buffer"], hop[:, :S.WIN - S.HOP]], dim=1) * w
        h = torch.stack([frame @ self.fwd_re, frame @ self.fwd_im], dim=1)[:, :, None, :]  # [1, 2, 1, 257]
        enc = self.encoder(h, *[st[f"enc{i}"] for i in range(n)])
        skips, new_enc = enc[:n], enc[n:]
        B, C, _, Fq = skips[-1].shape
        hc_names = [k for k in self.names if k[0] in "hc" and k[1:2].isdigit()]
        lstm = self.lstm(skips[-1].permute(0, 2, 1, 3).reshape(B, 1, C * Fq), *[st[k] for k in hc_names])
        dec_names = [k for k in self.names if k.startswith("dec")]
        dec = self.decoders(lstm[0], skips, [st[f"enc{i}"] for i in range(n)], [st[k] for k in dec_names])
        y = (dec[0] @ self.inv_re + dec[1] @ self.inv_im) * w  # [1, 400]
        out = torch.cat([st["ola"] + y[:, :S.WIN - S.HOP], y[:, S.WIN - S.HOP:S.HOP]], dim=1)
        new = {"buffer": hop, "ola": y[:, S.HOP:], **{f"enc{i}": t for i, t in enumerate(new_enc)},
               **dict(zip(hc_names, lstm[1:])), **dict(zip(dec_names, dec[2:]))}
        return (out, *[new[k] for k in self.names])


def zero_states(shapes: dict) -> list[np.ndarray]:
    return [np.zeros(s, dtype=np.float32) for s in shapes.values()]


def run_steps(step, x: np.ndarray, shapes: dict) -> np.ndarray:
    """Enhance a whole ``[N]`` waveform with a streaming step: ``step(hop, first, last, states)``
    returns ``(out, new_states)`` as numpy arrays. Equals the offline model's output."""
    n = len(x)
    m = S.num_frames(S.padded_length(n)) - 1  # index of the last frame
    xp = np.zeros(S.HOP * (m + 2), dtype=np.float32)
    xp[:n] = x
    states = zero_states(shapes)
    names = list(shapes)
    states[names.index("buffer")] = xp[None, :S.HOP]
    outs = []
    for k in range(1, m + 2):
        first = np.array([1.0 if k == 1 else 0.0], dtype=np.float32)
        last = np.array([1.0 if k == m + 1 else 0.0], dtype=np.float32)
        out, states = step(xp[None, S.HOP * k:S.HOP * (k + 1)], first, last, states)
        outs.append(out[0])
    outs.append(states[names.index("ola")][0])
    return np.concatenate(outs)[:n].astype(np.float32)


def torch_step(module: StreamingStep):
    """The step of ``module`` as a numpy callable for :func:`run_steps`."""
    def step(hop, first, last, states):
        with torch.no_grad():
            res = module(torch.from_numpy(hop), torch.from_numpy(first), torch.from_numpy(last),
                         *[torch.from_numpy(s) for s in states])
        return res[0].numpy(), [r.numpy() for r in res[1:]]
    return step


def check_streamable(model, where: str = "model") -> None:
    """Raise ValueError naming ``where`` when ``model`` cannot run as a streaming step."""
    from .models import GCRN
    if type(model) is not GCRN:
        raise ValueError(f"{where}: a {type(model).__name__} runs a teacher on the whole utterance (a concat mode, "
                         "or a decoder of teacher embeddings), so it cannot stream or be exported as a streaming step")
    if model.config.get("skips") != "encoder":
        raise ValueError(f"{where}: a decoder without an encoder (skips: duplicate) has no noisy input to stream")


def export_onnx(model, path, opset: int = 17, source: str = "") -> dict:
    """Write ``model``'s streaming step to ``path`` (ONNX); returns the metadata stored in it.

    Raises:
        ValueError: for a model that cannot stream (:func:`check_streamable`).
    """
    import onnx
    check_streamable(model, source or "model")
    step = StreamingStep(model).eval()
    shapes = state_shapes(model)
    names = list(shapes)
    args = (torch.zeros(1, S.HOP), torch.zeros(1), torch.zeros(1), *[torch.zeros(s) for s in shapes.values()])
    # The TorchScript exporter (dynamo=False): it needs no onnxscript and maps nn.LSTM with its
    # state inputs onto ONNX LSTM nodes. Its warnings are about dynamic shapes and batch sizes,
    # which a fixed-shape, batch-1 step does not have.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size")
        torch.onnx.export(step, args, str(path), dynamo=False, opset_version=opset,
                          input_names=["hop", "first", "last", *names],
                          output_names=["out", *[f"{n}_out" for n in names]])
    meta = {"format": META_FORMAT, "sample_rate": "16000", "hop": str(S.HOP), "window": str(S.WIN),
            "n_fft": str(S.N_FFT), "latency_samples": str(S.WIN), "latency_ms": f"{1000 * S.WIN / 16000:g}",
            "states": json.dumps(shapes), "model_config": json.dumps(model.config), "source": source,
            "usage": "prime 'buffer' with samples [0, 320); call k >= 1 with samples [320k, 320k + 320), "
                     "first=1 on call 1, last=1 on the last frame's call; append 'ola' after the last call"}
    proto = onnx.load(str(path))
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return meta


#: what ``quantize`` accepts: the float export, or onnxruntime's dynamic int8 quantization
QUANTIZE = ("none", "int8")


def quantize_int8(src, dst) -> None:
    """Write an int8 copy of the exported step ``src`` to ``dst``: onnxruntime's dynamic
    quantization (``quantize_dynamic``) of every MatMul and Gemm weight (the LSTM's four
    products, the DFT tables, the output layers) to signed 8 bits, one scale per tensor,
    activations quantized per call at run time. The convolutions stay float: onnxruntime has no
    integer ConvTranspose, and its integer Conv made the step slower than the float convs
    (Intel Xeon, 2026-12-06: RTF 0.037 with the convs quantized, 0.031 without). Per-channel
    scales gave no closer output (35.0 against 34.9 dB output / difference on a random GCRN).
    The metadata is kept, with ``quantization`` added.

    The copy does not equal the float model: its cost is measured (RESULTS, README), not
    assumed.
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    # the tool logs a line per tensor and advises its pre-processing pass on the root logger; that
    # pass (quant_pre_process) gives this graph the same output, so both are left out
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=False,
                         op_types_to_quantize=["MatMul", "Gemm"])
    finally:
        root.setLevel(level)
    meta = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
    meta["quantization"] = "int8: onnxruntime quantize_dynamic, MatMul/Gemm weights per tensor"
    proto = onnx.load(str(dst))
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    onnx.save(proto, str(dst))


class OnnxStep:
    """An exported streaming step run by onnxruntime, callable as :func:`run_steps` expects.

    Args:
        path: the ``.onnx`` file of :func:`export_onnx`.
        threads: intra-op threads (1: what a device core gives).
    """

    def __init__(self, path, threads: int = 1):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("format") != META_FORMAT:
            raise ValueError(f"{path} is not a seslib streaming GCRN (metadata format {meta.get('format')!r})")
        self.meta = meta
        self.shapes = json.loads(meta["states"])
        self.names = list(self.shapes)
        self.outputs = ["out", *[f"{n}_out" for n in self.names]]

    def __call__(self, hop, first, last, states):
        feed = {"hop": hop, "first": first, "last": last, **dict(zip(self.names, states))}
        res = self.session.run(self.outputs, feed)
        return res[0], res[1:]

    def enhance(self, x: np.ndarray) -> np.ndarray:
        """A whole ``[N]`` waveform, hop by hop."""
        return run_steps(self, np.asarray(x, dtype=np.float32), self.shapes)


__all__ = ["StreamingStep", "state_shapes", "run_steps", "torch_step", "export_onnx", "OnnxStep",
           "check_streamable", "quantize_int8", "QUANTIZE"]
