"""The experiment matrix: the paper's systems, tables and labels as data (``conf/experiments/*.yaml``).

A matrix file lists Table 1's systems, Tables 2-3's, the assembled systems, the analysis systems,
where systems are scored besides the main test set, the modes of the teacher ablation, the rows of
the corpus ablation and every row's label. :func:`load_experiments` reads and checks one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

LISTS = ("table1", "table2", "table3", "pretraining", "default_modes", "default_pretraining", "assembled", "analysis",
         "heldout_systems", "snr_systems", "sphinx_systems", "teacher_ablation_modes")
MAPS = ("corpus_ablation", "labels", "published")
#: the metrics a ``published`` entry may give (the paper's tables), and their table names
PUBLISHED = {"pesq": "PESQ", "stoi": "STOI", "si_sdr": "SI-SDR", "wer": "WER"}


class ExperimentsError(ValueError):
    """A matrix file that cannot be read; the message names the file and the key."""


@dataclass
class Experiments:
    """The matrix (see ``conf/experiments/paper.yaml`` for what each list means)."""
    table1: list = field(default_factory=list)
    table2: list = field(default_factory=list)
    table3: list = field(default_factory=list)
    pretraining: list = field(default_factory=list)
    default_modes: list = field(default_factory=list)
    default_pretraining: list = field(default_factory=list)
    assembled: list = field(default_factory=list)
    analysis: list = field(default_factory=list)
    heldout_systems: list = field(default_factory=list)
    snr_systems: list = field(default_factory=list)
    sphinx_systems: list = field(default_factory=list)
    teacher_ablation_modes: list = field(default_factory=list)
    corpus_ablation: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    published: dict = field(default_factory=dict)

    def label(self, system: str) -> str:
        """The row label of ``system`` (its own name when the matrix gives none; ``S_steps<N>``:
        S's label and its steps)."""
        if system not in self.labels:
            from .systems import split_steps
            root, steps = split_steps(system)
            if steps is not None and system == f"{root}_steps{steps}":
                return f"{self.label(root)}, {steps} steps"
        return self.labels.get(system, system)

    def chosen(self, value: str, whole: str) -> list[str]:
        """The systems an option names, in order, each once: the word ``all`` stands for the list
        ``whole`` (``table1``, ``pretraining``), ``auto`` for its ``default_<...>`` subset (the whole
        list where the matrix gives none), any other word for itself (``"auto pipeline_l2"``:
        the default and one more)."""
        default = {"table1": self.default_modes, "pretraining": self.default_pretraining}[whole]
        words = {"all": getattr(self, whole), "auto": default or getattr(self, whole)}
        return list(dict.fromkeys(x for w in value.split() for x in words.get(w, [w])))

    def table_of(self, system: str) -> str | None:
        """``table2``, ``table3`` or None: the pre-training table that reports ``system``."""
        return "table2" if system in self.table2 else "table3" if system in self.table3 else None


def load_experiments(path) -> Experiments:
    """The matrix in ``path``.

    Raises:
        ExperimentsError: naming the file and the key (an unknown key, a list that is not one).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ExperimentsError(f"{path}: cannot read the experiment matrix ({exc})") from None
    unknown = sorted(set(raw) - set(LISTS) - set(MAPS))
    if unknown:
        raise ExperimentsError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(LISTS + MAPS)}")
    for k in LISTS:
        if not isinstance(raw.get(k, []), list) or not all(isinstance(x, str) for x in raw.get(k, [])):
            raise ExperimentsError(f"{path}: {k} must be a list of system names")
    for k in MAPS:
        if not isinstance(raw.get(k, {}), dict):
            raise ExperimentsError(f"{path}: {k} must map system names to labels")
    for system, entry in (raw.get("published") or {}).items():
        bad = [k for k, v in (entry or {}).items() if k != "source" and (k not in PUBLISHED or not isinstance(v, (int, float)))]
        if not isinstance(entry, dict) or bad or not isinstance(entry.get("source", ""), str):
            raise ExperimentsError(f"{path}: published.{system} must map {', '.join(PUBLISHED)} to numbers (and "
                                   f"source to text){'; not: ' + ', '.join(bad) if bad else ''}")
    stray = sorted(set(raw.get("pretraining", [])) - set(raw.get("table2", [])) - set(raw.get("table3", [])))
    if stray:
        raise ExperimentsError(f"{path}: pretraining systems in neither table2 nor table3: {' '.join(stray)}")
    for k, whole in (("default_modes", "table1"), ("default_pretraining", "pretraining")):
        extra = sorted(set(raw.get(k, [])) - set(raw.get(whole, [])))
        if extra:
            raise ExperimentsError(f"{path}: {k} names systems that {whole} lacks: {' '.join(extra)}")
    return Experiments(**{k: raw[k] for k in raw})
