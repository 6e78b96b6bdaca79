"""The analysis part of run.sh's plan (paper, Secs. 3.4-3.5; see describe_systems): the
teacher-shaped student, the decoder fed its embeddings, the lag statistics, the high-band
energy of decoded speech, and the training-seed spread.

Assignments (added to those of :mod:`seslib.bin.describe_systems`):

  analysis          true or false (the "auto" option resolved)
  lag_args          seslib.bin.lag_stats's arguments: the teacher and its random twin, the
                    student, Base and the embedding distillation (those trained)
  spectra_args      seslib.bin.resynth_spectra's: the decoder of teacher embeddings given the
                    teacher's embeddings (Fig. 5 b) and the student's (Fig. 5 c)
  seed_runs         S_seed<N> for each S of the seed spread and each N of --train-seeds (not named
                    seed_systems: run.sh passes its option of that name again when stage 6 re-plans)
  seed_chosen       the systems of the spread (Base first) and why, for the log
"""
from __future__ import annotations

from pathlib import Path

#: systems that the analysis adds to stage 3 (configs conf/train_<S>_<tag>.yaml)
ANALYSIS_SYSTEMS = ("student", "resynth_student")


def analysis_systems(analysis: bool) -> list[str]:
    """The systems that stage 3 trains for the analysis (the decoder of teacher embeddings comes
    in as resynth_student's dependency)."""
    return list(ANALYSIS_SYSTEMS) if analysis else []


def choose_seed_systems(candidates, recipe_dir: str, test_set: str, limit: int) -> tuple[list[str], str]:
    """(systems, reason): Base and up to ``limit`` of ``candidates`` whose paired bootstrap
    interval of the SI-SDR difference from Base on ``test_set`` excludes zero, the largest
    differences first. Candidates not yet scored are left out (the plan is made again after
    scoring, in stage 6)."""
    from ..analysis import compare, read_scores
    exp = Path(recipe_dir) / "exp"
    try:
        base = read_scores(exp / "base" / f"score_{test_set}")
    except FileNotFoundError:
        return [], "Base is not scored yet"
    found = []
    for s in candidates:
        try:
            r = compare(read_scores(exp / s / f"score_{test_set}"), base).get("si_sdr")
        except (FileNotFoundError, ValueError):
            continue
        if r and r["significant"]:
            found.append((abs(r["diff"]), s))
    chosen = [s for _, s in sorted(found, reverse=True)[:limit]]
    reason = (f"{len(found)} of {len(candidates)} rows differ from Base in SI-SDR (95% paired bootstrap); "
              f"the {len(chosen)} largest: {' '.join(chosen) or 'none'}")
    return ["base"] + chosen, reason


def plan_analysis(a, systems, table1, table3, teacher_spec: str) -> dict:
    """The assignments of the module docstring; ``systems``: those stage 3 trains, ``table1``/``table3``:
    the candidate rows of the seed spread, ``teacher_spec``: the main teacher's seslib.teacher spec."""
    on = a.analysis == "true"
    out = {"analysis": "true" if on else "false", "lag_args": [], "spectra_args": [], "seed_runs": "",
           "seed_chosen": ""}
    if on:
        lag = ["--source", f"teacher={teacher_spec}", "--source", f"random=random:{teacher_spec}", "--reference", "teacher"]
        lag += ["--source", "student=exp/student/best.pt"] if "student" in systems else []
        lag += [x for s in ("base", "distill_embed") if s in systems for x in ["--source", f"{s}=gcrn:exp/{s}/best.pt"]]
        out["lag_args"] = lag
        if "resynth_student" in systems:
            out["spectra_args"] = ["--decoded", "teacher=exp/pretrain_dec_teacher/enhanced_test",
                                   "--decoded", "student=exp/resynth_student/enhanced_test"]
    seeds = a.train_seeds.split()
    if seeds and "base" in systems:
        if a.seed_systems == "auto":
            candidates = [s for s in list(table1) + list(table3) if s != "base"]
            chosen, reason = choose_seed_systems(candidates, a.recipe_dir, a.test_sets.split()[0], a.max_seed_systems)
        else:
            # Base is the reference of the spread: always in it
            chosen = ["base"] + [s for s in a.seed_systems.split() if s != "base"]
            reason = "--seed-systems"
            unknown = [s for s in chosen if s not in systems]
            if unknown:
                from .describe_systems import PlanError
                raise PlanError(f"--seed-systems: {' '.join(unknown)} not trained by this run")
        out["seed_runs"] = " ".join(f"{s}_seed{n}" for s in chosen for n in seeds)
        out["seed_chosen"] = f"{' '.join(chosen)} ({reason})" if chosen else reason
    return out


def add_options(p) -> None:
    p.add_argument("--analysis", default="auto", help="true, false or auto (true): the student, lag statistics, spectra")
    p.add_argument("--train-seeds", default="", help="extra training seeds of the seed spread, space-separated ('': none)")
    p.add_argument("--seed-systems", default="auto",
                   help="systems retrained with each of --train-seeds, or auto: Base and the rows (Tables 1, 3) "
                        "whose SI-SDR differs from Base's by the paired bootstrap")
    p.add_argument("--max-seed-systems", type=int, default=2,
                   help="auto: at most this many rows besides Base, the largest differences first (default 2)")
