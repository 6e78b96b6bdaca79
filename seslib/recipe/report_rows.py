"""The rows of RESULTS.md's tables, as seslib.bin.results arguments, from a run's plan.

Table 1 (and the peers), the data and corpus ablations, the teacher ablation and its content
checks, the analysis (decoded speech, the student), the systems trained for no table, the SNR
table, Tables 2 and 3. Each row is ``--<table>-row LABEL EXP_DIR [MODEL]``.
"""
from __future__ import annotations

import json

from .systems import TEACHER_SEP


def _row(x, flag: str, s: str, source: str | None = None) -> list[str]:
    return [flag, x.label(s), f"exp/{s}", source or f"exp/{s}/best.pt"]


def rows(p, teachers: dict, checks, sets) -> list[str]:
    """Arguments of seslib.bin.results for the plan ``p`` (:class:`seslib.recipe.plan.Planner`);
    ``teachers``: its teachers (:meth:`Planner.teachers`), ``checks``: those checked, ``sets``: the test sets."""
    x = p.x
    args = ["--row", "Clean speech (reference)", "exp/clean", "clean", "--row", "Noisy input", "exp/noisy", "noisy"]
    args += [a for m in p.modes for a in _row(x, "--row", m)]
    args += [a for q in p.o["peers"].split() for a in _row(x, "--row", f"peer_{q}", f"peer:{q}")]
    # the corpus table is made when a run trains one of its variants (Base and Base 4x steps are
    # trained for other tables too)
    variants = set(x.corpus_ablation) - {"base", "base_long"}
    corpus = [s for s in x.corpus_ablation if s in p.ablation + ["base"]] if set(p.ablation) & variants else []
    data_abl = [s for s in p.ablation if s not in corpus]
    if data_abl:
        args += ["--ablation-row", "Noisy input", "exp/noisy", "noisy"]
        args += [a for s in data_abl + ["base"] for a in _row(x, "--ablation-row", s)]
    if corpus:
        args += ["--corpus-row", "Noisy input", "exp/noisy", "noisy"]
        args += [a for s in corpus for a in ["--corpus-row", x.corpus_ablation[s], f"exp/{s}", f"exp/{s}/best.pt"]]
    if p.teacher_systems:
        if "base" in p.modes:
            args += _row(x, "--teacher-row", "base")
        for m in p.tabl_modes:
            for s in ([m] if m in p.systems else []) + [s for s in p.teacher_systems if s.startswith(m + TEACHER_SEP)]:
                args += ["--teacher-row", x.label(m), f"exp/{s}", f"exp/{s}/best.pt"]
    if checks:
        args += ["--teacher-check"] + [f"exp/teacher_check/{t['tag']}.json" for t in checks]
    if p.pretrain_used(teachers):
        args += ["--teacher-dir", "exp/teacher"]
    if p.analysis:
        args += ["--analysis-dir", "exp/analysis"]
        args += [a for s, lab in (("pretrain_dec_teacher", "(b) teacher"), ("resynth_student", "(c) student"))
                 if s in p.systems for a in ["--decoded-row", lab, f"exp/{s}"]]
        args += ["--student", "exp/student/best.pt"] if "student" in p.systems else []
    untabled = [s for s in p.systems if s not in p.enhance]
    args += ["--trained", *untabled] if untabled else []
    if any(t.startswith("test_snr") for t in sets):
        args += ["--snr-row", "Noisy input", "exp/noisy"]
        args += [a for s in p.snr_systems() for a in ["--snr-row", x.label(s), f"exp/{s}"]]
    args += [a for s in p.table2 for a in ["--pretrain-row", x.label(s), f"exp/{s}", f"exp/{s}/best.pt"]]
    shown = ["noisy"] + p.modes + p.table2 + p.table3
    args += [a for s in shown if s in x.published for a in ["--published", f"exp/{s}", json.dumps(x.published[s])]]
    if p.table3:
        bases = (["base"] if "base" in p.systems else []) + list(dict.fromkeys(p.matched.values()))
        args += [a for s in bases + p.table3 for a in ["--finetune-row", x.label(s), f"exp/{s}", f"exp/{s}/best.pt"]]
    return args
