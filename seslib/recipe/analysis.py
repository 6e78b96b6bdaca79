"""The analysis part of a run's plan (paper, Secs. 3.4-3.5): the lag statistics of embeddings
(Figs. 3-4), the high-band energy of speech decoded from embeddings (Fig. 5), and the seed spread
(Base and the rows that differ from it, retrained with other training seeds).
"""
from __future__ import annotations

from pathlib import Path

from .systems import PlanError


def lag_args(systems, teacher_spec: str) -> list[str]:
    """seslib.bin.lag_stats's arguments: the teacher and its random twin, the student, Base, the
    embedding distillation and the L1 pre-trained encoder's P(f_enc(X)) (Sec. 3.4's "average
    representation"; those trained)."""
    args = ["--source", f"teacher={teacher_spec}", "--source", f"random=random:{teacher_spec}", "--reference", "teacher"]
    args += ["--source", "student=exp/student/best.pt"] if "student" in systems else []
    return args + [x for s in ("base", "distill_embed", "pretrain_enc_l1") if s in systems for x in ["--source", f"{s}=gcrn:exp/{s}/best.pt"]]


def spectra_args(systems) -> list[str]:
    """seslib.bin.resynth_spectra's: the decoder of teacher embeddings given the teacher's
    embeddings (Fig. 5 b) and the student's (Fig. 5 c); none without the student's decoder."""
    if "resynth_student" not in systems:
        return []
    return ["--decoded", "teacher=exp/pretrain_dec_teacher/enhanced_test",
            "--decoded", "student=exp/resynth_student/enhanced_test"]


#: utterances of the main test set each snapshot of the decoder curve is scored on
CURVE_UTTS = 40


def curve_args(systems, keep_every: int) -> list[str]:
    """seslib.bin.decoder_curve's: every snapshot of the decoder of teacher embeddings (its config's
    ``train.keep_every``), read (ii) through the L1 pre-trained encoder and (i) from the teacher's
    embeddings; none without the decoder's snapshots or without that encoder."""
    if "pretrain_dec_teacher" not in systems or not keep_every:
        return []
    enc = ["--encoder", "exp/pretrain_enc_l1/best.pt"] if "pretrain_enc_l1" in systems else []
    return ["--snapshots", "exp/pretrain_dec_teacher/snapshots", *enc, "--utts", str(CURVE_UTTS)]


def choose_seed_systems(candidates, recipe_dir: str, test_set: str, limit: int,
                        references: dict | None = None) -> tuple[list[str], str]:
    """(systems, reason): Base and up to ``limit`` of ``candidates`` whose paired bootstrap
    interval of the SI-SDR difference from their reference on ``test_set`` excludes zero, the
    largest differences first; a chosen candidate's reference other than Base (``references``:
    candidate -> the Base of its budget) is chosen with it. Candidates not yet scored are left out."""
    from ..analysis import compare, read_scores
    exp = Path(recipe_dir) / "exp"
    references = references or {}
    try:
        read_scores(exp / "base" / f"score_{test_set}")
    except FileNotFoundError:
        return [], "Base is not scored yet"
    found = []
    for s in candidates:
        try:
            ref = read_scores(exp / references.get(s, "base") / f"score_{test_set}")
            r = compare(read_scores(exp / s / f"score_{test_set}"), ref).get("si_sdr")
        except (FileNotFoundError, ValueError):
            continue
        if r and r["significant"]:
            found.append((abs(r["diff"]), s))
    chosen = [s for _, s in sorted(found, reverse=True)[:limit]]
    reason = (f"{len(found)} of {len(candidates)} rows differ from the Base of their budget in SI-SDR (95% paired "
              f"bootstrap); the {len(chosen)} largest: {' '.join(chosen) or 'none'}")
    refs = [references[s] for s in chosen if s in references]
    return list(dict.fromkeys(["base"] + refs + chosen)), reason


def seed_spread(opts: dict, systems, candidates, recipe_dir: str, test_set: str,
                references: dict | None = None) -> tuple[list[str], str]:
    """(seed runs ``S_seed<N>``, what was chosen and why) for the options ``train_seeds``,
    ``seed_systems`` (auto: :func:`choose_seed_systems` over ``candidates``, each against its
    ``references`` entry, Base without one) and ``max_seed_systems``."""
    seeds = opts["train_seeds"].split()
    if not seeds or "base" not in systems:
        return [], ""
    if opts["seed_systems"] == "auto":
        chosen, reason = choose_seed_systems(candidates, recipe_dir, test_set, int(opts["max_seed_systems"]),
                                             references)
    else:  # Base (and the Base of a chosen row's budget) is the reference of the spread: always in it
        named = [s for s in opts["seed_systems"].split() if s != "base"]
        refs = [(references or {})[s] for s in named if s in (references or {})]
        chosen = list(dict.fromkeys(["base"] + refs + named))
        reason = "--seed-systems"
        unknown = [s for s in chosen if s not in systems]
        if unknown:
            raise PlanError(f"--seed-systems: {' '.join(unknown)} not trained by this run")
    runs = [f"{s}_seed{n}" for s in chosen for n in seeds]
    return runs, (f"{' '.join(chosen)} ({reason})" if chosen else reason)
