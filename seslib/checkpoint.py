"""Self-describing checkpoints: the config travels with the weights."""
from __future__ import annotations

from pathlib import Path

import torch

from .fileutil import atomic_output


def save_checkpoint(path, state: dict) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename."""
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load_model(path, map_location="cpu", teacher=None):
    """Build the enhancer stored in a checkpoint (``last.pt``/``best.pt``), in eval mode.

    A GCRN; or, for the ``concat`` modes, a :class:`seslib.models.concat.ConcatGCRN`
    whose teacher is loaded from the path recorded at training time, or from ``teacher``.

    Raises:
        ValueError: when the file is not a seslib checkpoint.
    """
    from .models import GCRN

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    ck = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(ck, dict) or "model_config" not in ck or "model" not in ck:
        raise ValueError(f"{path} is not a seslib checkpoint (no model_config/model)")
    model = GCRN(**ck["model_config"])
    spec = ck.get("enhancer")
    if spec:
        if spec.get("kind") != "concat":
            raise ValueError(f"{path}: unknown enhancer kind {spec.get('kind')!r}")
        from .models.concat import ConcatGCRN
        from .teacher import Teacher
        t = Teacher(teacher or spec["teacher"], layers="all")
        model = ConcatGCRN(model, t, spec["teacher_dim"], spec["num_hidden"], spec["layers"])
    model.load_state_dict(ck["model"])
    return model.eval()
