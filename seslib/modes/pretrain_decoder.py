"""Decoder pre-training (paper, Secs. 2.5 and 3.3): from the frozen pre-trained encoder, or
from the teacher's embeddings of the clean speech."""
from __future__ import annotations

import torch

from ..losses import compressed_spectral, multires_stft, neg_si_sdr, si_sdr
from ..models.gcrn import NO_ENCODER_SKIPS
from ..models.resynth import TeacherResynth
from .base import Mode, TeacherMode


def _learn_only(model, parts) -> None:
    for name, p in model.named_parameters():
        p.requires_grad_(name.split(".", 1)[0] in parts)


LOSSES = ("si_sdr", "spectral", "mrstft")
_SPECTRAL = {"spectral": compressed_spectral, "mrstft": multires_stft}


def decoder_loss(name: str, est: torch.Tensor, clean: torch.Tensor):
    """(loss, logs) of the decoder's output: ``si_sdr`` (-SI-SDR, eq. 1), ``spectral``
    (:func:`seslib.losses.compressed_spectral`) or ``mrstft`` (:func:`seslib.losses.multires_stft`)."""
    if name == "si_sdr":
        loss = neg_si_sdr(est, clean)
        return loss, {"si_sdr": -loss.detach()}
    loss = _SPECTRAL[name](est, clean)
    return loss, {name: loss.detach()}


def _check_loss(mode) -> None:
    if mode.options["loss"] not in LOSSES:
        raise ValueError(f"mode {mode.name}: mode_options.loss must be one of {LOSSES}, not {mode.options['loss']!r}")


class PretrainDecoderFrozen(Mode):
    """Decoder pre-training on the frozen encoder (Sec. 2.5, "/Frozen" rows of Table 2):

        L = -SISDR( f_e^dec( f_e^enc(X) ), Y ),   f_e^enc frozen

    The encoder (gated convolutions and grouped LSTM) comes from an encoder pre-training
    checkpoint (the config's ``init``) and stays frozen, batch-norm statistics included;
    the two decoders and the output layers learn to turn its outputs for the noisy input,
    with the encoder's skip connections, into the clean speech. The paper says the decoder
    "predicts the clean spectrogram"; the loss here (option ``loss``) is by default eq. (1),
    -SI-SDR of the resynthesised waveform, the objective every other system of the recipe is
    trained and validated with: the encoder's skip connections carry the noisy input's phase,
    so the waveform can be matched (README: "Pre-training"). The result is an ordinary causal GCRN.

    Option ``reads``: ``bottleneck`` (default) feeds the decoders the frozen encoder's 448-wide
    bottleneck; ``projection`` feeds them M(P(f_enc(X))), the encoder pre-training's predicted
    teacher embedding (its ``to_teacher``, P, frozen too) through a learned M (``from_teacher``),
    another reading of the paper's "the encoder's output" (needs ``model.bridge`` and P in ``init``).
    The recipe's Frozen systems set ``projection``, the reading its measured evidence favours
    (RESULTS.md, "The recipe's readings of the paper, measured"); ``bottleneck`` is the mode's own
    default, for a GCRN without a bridge.
    """

    name = "pretrain_dec_frozen"
    defaults = {"loss": "si_sdr", "reads": "bottleneck"}
    READS = ("bottleneck", "projection")

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        _check_loss(self)
        reads = self.options["reads"]
        if reads not in self.READS:
            raise ValueError(f"mode {self.name}: mode_options.reads must be one of {self.READS}, not {reads!r}")
        projection = reads == "projection"
        if projection != (model.from_teacher is not None):
            raise ValueError(f"mode {self.name}: reads: {reads} needs " + (
                "model.bridge (P and M)" if projection else "a model without a bridge (model.bridge: 0)"))
        self.learns = ("decoders", "out") + (("from_teacher",) if projection else ())
        self.frozen_modules = ("encoder", "lstm") + (("to_teacher",) if projection else ())
        _learn_only(model, self.learns)

    def train(self, mode: bool = True):
        super().train(mode)
        for name in self.frozen_modules:
            getattr(self.model, name).eval()  # frozen: batch norm keeps its pre-trained statistics
        return self

    def loss(self, noisy, clean, feats=None):
        return decoder_loss(self.options["loss"], self.model(noisy), clean)


class PretrainDecoderTeacher(TeacherMode):
    """Decoder pre-training from the teacher's embeddings (Sec. 2.5, "/Wav2Vec2" rows of Table 2):

        L = L_spec( f_e^dec( M(g_s(Y)) ), Y )       (option loss: spectral, the default; mrstft; or si_sdr)

    g_s(Y), the teacher's last layer on the clean speech, goes through M, a linear map to
    the bottleneck width (the model's ``from_teacher``), into the GCRN decoders. There is no
    encoder, so there are no skip connections; the paper replaces "the residual connection
    based on up-sampling operation" by "locally duplicating the learned features by a
    factor of 2". Read here as: each decoder layer, which takes [decoder features, encoder
    features at that resolution] (twice its input's channels), takes [decoder features,
    the same features again] (model ``skips: duplicate``). Every layer still sees only the
    current and previous frame, so the decoder stays causal; the layer shapes are those of
    the GCRN, so its weights can start a fine-tuned GCRN. L_spec is the compressed spectral
    loss (:func:`seslib.losses.compressed_spectral`): the decoder "predicts the clean
    spectrogram" (paper), mostly its compressed magnitude; ``mrstft``, the multi-resolution
    STFT magnitude loss (:func:`seslib.losses.multires_stft`), asks for magnitudes only, at
    three window lengths. The 50 Hz embeddings carry no
    waveform phase, and -SI-SDR would ask for it sample by sample; validation scores the
    same loss on the resynthesised validation speech (higher is better: the negated loss).
    Only M, the decoders and the output layers learn.

    Its inference model (:class:`seslib.models.resynth.TeacherResynth`) resynthesises the
    speech that it is given from the teacher's embeddings of it: reading (i) of Table 2
    when given the clean test speech.
    """

    name = "pretrain_dec_teacher"
    defaults = {"loss": "spectral"}
    learns = ("from_teacher", "decoders", "out")

    def __init__(self, model, options=None, teacher=None):
        super().__init__(model, options, teacher)
        _check_loss(self)
        if model.from_teacher is None or model.from_teacher.in_features != self.teacher_dim:
            raise ValueError(f"mode {self.name} needs model.bridge = the teacher's width ({self.teacher_dim}), "
                             f"or 'teacher'")
        if model.config["skips"] not in NO_ENCODER_SKIPS:
            raise ValueError(f"mode {self.name} has no encoder to take skip connections from: "
                             f"set model.skips: duplicate or upsample")
        _learn_only(model, self.learns)
        self.__dict__["resynth"] = TeacherResynth(model, teacher)  # shares the model; not a second copy in the state

    @classmethod
    def streams(cls):
        return ["clean_last"]

    def loss(self, noisy, clean, feats=None):
        return decoder_loss(self.options["loss"], self.model.decode_teacher(feats["clean_last"], clean.shape[-1]), clean)

    @torch.no_grad()
    def valid_score(self, noisy, clean):
        """The clean validation speech resynthesised from its teacher embeddings: SI-SDR (dB), or
        the negated training loss."""
        est, name = self.resynth(clean), self.options["loss"]
        return si_sdr(est, clean).item() if name == "si_sdr" else -_SPECTRAL[name](est, clean).item()

    @property
    def valid_metric(self):
        name = self.options["loss"]
        return "resynthesis SI-SDR (dB)" if name == "si_sdr" else \
            "-spectral loss of the resynthesis" if name == "spectral" else f"-{name} loss of the resynthesis"

    def inference_model(self):
        return self.resynth

    def inference_spec(self):
        return {"kind": "resynth", "teacher": self.teacher.name}
