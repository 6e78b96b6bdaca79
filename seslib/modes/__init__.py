"""Training modes: one small class per way of training the enhancer, found by name.

A mode turns a batch (and the teacher features it asks for) into a loss. It may own
extra modules (projections, a discriminator) and extra optimisers; the trainer saves and
restores all of them. The names are the rows of the paper's Table 1 and the pre-training
modes of its Tables 2 and 3 (Sec. 2.5), and the teacher-shaped student of Sec. 3.5.
"""
from __future__ import annotations

from .adversarial import Adversarial, AdversarialWS
from .base import Base, Mode, TeacherMode
from .concat import Concat, ConcatWS
from .distill_embed import DistillEmbed, DistillEmbedWS
from .distill_output import DistillOutput
from .distill_student import DistillStudent
from .pretrain_decoder import PretrainDecoderFrozen, PretrainDecoderTeacher
from .pretrain_encoder import PretrainEncoderCos, PretrainEncoderL1, PretrainEncoderL2
from .triplet import Triplet, TripletWS

MODES: dict[str, type[Mode]] = {m.name: m for m in (
    Base, Concat, ConcatWS, DistillEmbed, DistillEmbedWS, DistillOutput, Adversarial, AdversarialWS,
    Triplet, TripletWS,
    PretrainEncoderL1, PretrainEncoderL2, PretrainEncoderCos, PretrainDecoderFrozen, PretrainDecoderTeacher,
    DistillStudent)}

__all__ = ["MODES", "Mode", "TeacherMode", "get_mode"]


def get_mode(name: str) -> type[Mode]:
    """The mode class registered under ``name``."""
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"unknown training mode '{name}'; known: {sorted(MODES)}") from None
