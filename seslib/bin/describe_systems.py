"""Plan a recipe's systems for run.sh: what is trained, with which teacher, and how it is reported.

  eval "$(python -m seslib.bin.describe_systems --conf-dir conf --tag mini --corpus mini \\
            --recipe-dir "$PWD" --modes "base concat" --teacher auto ...)"

prints bash assignments (values quoted) that run.sh evaluates:

  teacher, ablation, teacher_ablation, teacher_check   the "auto" options resolved for the corpus
  systems           every system to train: the modes, the data ablation (+ base, its reference),
                    <mode>_teacher-<T> for each mode and teacher of the teacher ablation, and the
                    pre-training systems (Tables 2-3), each after the systems its ``init`` reads
  enhance_systems   the systems whose models enhance (not the encoder pre-training)
  heldout_systems   those also scored on the held-out-voice set (--heldout-systems and the data
                    ablation; the others on the first set only, for time)
  set_systems[SET]  per test set of --test-sets: the systems enhanced and scored on it (the first
                    set: all; test_snr*: the --snr-systems; the others, e.g. test_heldout, test_real: heldout_systems)
  set_refs[SET]     the reference rows scored on it: clean (not on test_snr*: the same speech) and noisy
  score_cfg[S], score_cfg_whisper   the scoring stage's config string, with s_asr[S] / Whisper only
  s_asr[S]          recognisers of each system's and reference row's scoring (seslib.bin.score --asr;
                    "none": --no-asr, the seed systems):
                    whisper everywhere; + sphinx_per (phone error rate) for --sphinx-systems, the noisy
                    input and Tables 2-3; + sphinx (its slow word search too) for the clean speech
  teacher_users     the systems that use a teacher
  pretrain_used     true when a system uses the offline-pre-trained teacher (stage 2 trains it)
  check_teachers    run.sh teacher names whose content is checked (none when teacher_check=false)
  dump_teachers     teachers whose features of data/train are dumped (systems reading dumped ones)
  peers_available   the peers of --peers that run here (the others are reported on stderr)
  t_path[T], t_tag[T], t_dump[T]   per teacher name: seslib.teacher spec, file-name-safe tag, dump dir
  t_streams[T]      per dumped teacher: the feature streams its systems read (stage 2 dumps only those)
  dump_storage      how stage 2 stores them (dump_features --storage; --feature-storage, auto resolved)
  s_conf[S], s_inputs[S], s_cfg[S], s_set[S]   per system: training config, stage inputs,
                    stage config string, and the train command's ``--set`` overrides
  s_input[S]        what stage 4 feeds the model: wav.scp (the noisy mixtures), or spk1.scp for
                    a decoder that resynthesises speech from the teacher's embeddings of it
  train_confs       the training config files used, as patterns (conf/train_<system>_mini.yaml, ...)
  results_args      the rows of stage 6 (seslib.bin.results --row/--ablation-row/--teacher-row ...)

A system ``S`` is trained with ``<conf-dir>/train_S_<tag>.yaml``, or ``train_S.yaml`` where the
recipe has no config for its tag (and what it includes); its
``mode`` key names the training mode. A system of the teacher ablation, ``S_teacher-<name>``, is
``S`` trained with another teacher. Teacher names are those of run.sh's ``--teacher``: a
seslib.teacher spec, ``pretrain`` (the wav2vec 2.0 that stage 2 pre-trains, exp/teacher/teacher),
``random`` (the main teacher's random twin) or ``random:<name>``. Exits non-zero, naming the file
or option, when a config is missing, names an unknown mode, or a teacher-ablation mode uses no
teacher.
"""
from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

from .. import augment
from ..modes import get_mode
from .describe_analysis import ANALYSIS_SYSTEMS, add_options, analysis_systems, plan_analysis
from ..config import ConfigError, load_config

#: separates a system from the teacher it was trained with in teacher-ablation names
TEACHER_SEP = "_teacher-"
#: ``S_seed<N>``: system S trained again with training seed N (the seed spread of the analysis)
_SEED = re.compile(r"^(.+)_seed(\d+)$")

#: value of each "auto" option per corpus ("*": any other corpus)
AUTO = {
    "teacher": {"dns": "facebook/wav2vec2-base", "*": "whisper-tiny.en"},  # offline unless the paper's DNS set-up
    "ablation": {"*": ""},  # the data ablation, "base_static base_dynmix", is opt-in (time budget)
    "teacher_ablation": {"mini": "random", "*": ""},
    "heldout_systems": {"*": "base concat concat_ws distill_embed distill_output"},
    "teacher_check": {"mini": "true", "*": "false"},
    # online for systems that mix dynamically (features of mixtures never seen again), dumped for static
    # mixtures: measured on the dns path, reading wav2vec2-base's dump trains 4.8x faster than running it
    # online (README, "Teacher features on disk"), and two-byte storage halves the disk for a 1e-4 error
    "teacher_features": {"*": "by-mixing"},
    "feature_storage": {"dns": "two-byte", "*": "float32"},
    "snr_systems": {"*": "base concat_ws pretrain_dec_frozen_l1 pipeline_l1 finetune_l1_frozen"},
    "sphinx_systems": {"*": "base concat_ws distill_embed distill_output"},
    "analysis": {"*": "true"},
    "pretraining": {"*": "pretrain_dec_frozen_l1 pretrain_dec_frozen_l2 pretrain_dec_frozen_cos pretrain_dec_teacher "
                         "pipeline_l1 pipeline_l2 pipeline_cos finetune_l1_frozen finetune_l1_teacher"},
}

#: row labels of the results tables (the paper's names for Table 1's rows)
LABELS = {
    "base": "Base", "concat": "Feature Concat", "concat_ws": "Feature Concat-ws",
    "distill_embed": "Distillation Embed.", "distill_embed_ws": "Distillation Embed.-ws",
    "distill_output": "Distillation Output", "adversarial": "Distillation Adversarial",
    "adversarial_ws": "Distillation Adversarial-ws", "triplet": "Distillation Triplet",
    "triplet_ws": "Distillation Triplet-ws", "base_static": "Base, static mixtures",
    "base_dynmix": "Base, dynamic mixing", "base_long": "Base, 4x steps",
    "pretrain_dec_frozen_l1": "L1 / Frozen", "pretrain_dec_frozen_l2": "L2 / Frozen",
    "pretrain_dec_frozen_cos": "Cosine / Frozen",
    "pretrain_dec_teacher": "– / Teacher: (i) resynthesis from the teacher's embeddings of the clean speech",
    "pipeline_l1": "L1 / Teacher: (ii) noisy input, encoder -> decoder",
    "pipeline_l2": "L2 / Teacher: (ii) noisy input, encoder -> decoder",
    "pipeline_cos": "Cosine / Teacher: (ii) noisy input, encoder -> decoder",
    "finetune_l1_frozen": "L1 / Frozen, fine-tuned", "finetune_l1_teacher": "L1 / Teacher, fine-tuned",
    "peer_rnnoise": "RNNoise", "peer_dfn3": "DeepFilterNet3", "peer_noisereduce": "Spectral gating (noisereduce)",
}

_RANDOM = re.compile(r"^(random(?:@\d+)?:)(.*)$")


class PlanError(ValueError):
    """A recipe option or config that cannot be planned."""


def resolve_auto(option: str, value: str, corpus: str) -> str:
    if value != "auto":
        return value
    table = AUTO[option]
    return table.get(corpus, table["*"])


def teacher_path(name: str, main: str, recipe_dir: str) -> str:
    """The seslib.teacher spec of run.sh teacher ``name`` (``main``: the recipe's main teacher)."""
    if name == "pretrain":
        return f"{recipe_dir}/exp/teacher/teacher"
    if name == "random":
        if main == "random":
            raise PlanError("--teacher random names no teacher to copy the shape of: use random:<spec>")
        return "random:" + teacher_path(main, main, recipe_dir)
    m = _RANDOM.match(name)
    if m:
        return m.group(1) + teacher_path(m.group(2), main, recipe_dir)
    return name


def tag(name: str, recipe_dir: str) -> str:
    """A file-name-safe name of a teacher spec (paths inside the recipe made relative)."""
    m = _RANDOM.match(name)
    prefix, rest = (m.group(1), m.group(2)) if m else ("", name)
    rest = rest[len(recipe_dir) + 1:] if rest.startswith(recipe_dir + "/") else rest
    return re.sub(r"[^A-Za-z0-9._-]", "_", prefix + rest)


def split_seed(system: str) -> tuple[str, int | None]:
    """``("S", N)`` for ``S_seed<N>``, ``(system, None)`` otherwise."""
    m = _SEED.match(system)
    return (m.group(1), int(m.group(2))) if m else (system, None)


def conf_file(conf_dir: Path, conf_tag: str, stem: str) -> Path:
    """``<stem>_<tag>.yaml`` when the recipe has one for its tag, else the tag-less ``<stem>.yaml``
    (the configs a recipe made from egs/TEMPLATE links to)."""
    tagged = conf_dir / f"{stem}_{conf_tag}.yaml"
    return tagged if tagged.is_file() or not (conf_dir / f"{stem}.yaml").is_file() else conf_dir / f"{stem}.yaml"


def describe(conf_dir: Path, conf_tag: str, system: str, sets=()):
    """(config path, config dict, Mode) of ``system`` (``sets``: ``key=value`` overrides); PlanError
    naming the file when it cannot."""
    base, _, teacher = split_seed(system)[0].partition(TEACHER_SEP)
    path = conf_file(conf_dir, conf_tag, f"train_{base}")
    if not path.is_file():
        raise PlanError(f"no training config {path} (nor {conf_dir / f'train_{base}.yaml'}) for system '{system}'")
    try:
        cfg = load_config(path, sets)
        mode = get_mode(cfg["mode"])
    except ConfigError as exc:  # names the file (or the file it includes) already
        raise PlanError(f"{exc} (system '{system}')") from None
    except (ValueError, KeyError) as exc:
        raise PlanError(f"{path}: {exc}") from None
    if teacher and not mode.uses_teacher:
        raise PlanError(f"system '{system}': mode {cfg['mode']} ({path}) uses no teacher")
    return path, cfg, mode


def _unique(items):
    return list(dict.fromkeys(items))


def with_dependencies(conf_dir: Path, conf_tag: str, systems) -> list[str]:
    """``systems`` with every system whose checkpoint an ``init`` reads (``exp/<S>/...``) put
    before the first system that needs it."""
    out = []

    def visit(s, path=()):
        if s in out:
            return
        if s in path:
            raise PlanError(f"systems initialise each other in a loop: {' -> '.join(path + (s,))}")
        for dep in init_systems(describe(conf_dir, conf_tag, s)[1]):
            visit(dep, path + (s,))
        out.append(s)
    for s in systems:
        visit(s)
    return out


def _exp_system(path) -> str | None:
    parts = Path(str(path)).parts
    return parts[1] if len(parts) > 2 and parts[0] == "exp" else None


def fixed_teacher(cfg: dict) -> str | None:
    """A teacher that the config fixes to another system's checkpoint (``teacher.path: exp/<S>/...``,
    e.g. the teacher-shaped student): kept instead of the recipe's teacher."""
    path = (cfg.get("teacher") or {}).get("path")
    return path if path and _exp_system(path) else None


def init_systems(cfg: dict) -> list[str]:
    """Systems whose checkpoints (``exp/<S>/...``) the config's ``init`` (or a fixed teacher) reads."""
    found = [_exp_system(i["checkpoint"]) for i in cfg.get("init") or []] + [_exp_system(fixed_teacher(cfg) or "")]
    return [s for s in found if s]


def system_plan(a, s: str, teacher: str, by_tag: dict, common: Path) -> dict:
    """How run.sh trains and enhances system ``s``: ``conf``, ``inputs`` (stage inputs), ``cfg`` (the
    stage's config string), ``sets`` (``--set`` overrides), ``input`` (what stage 4 feeds it),
    ``teacher`` (its run.sh teacher name, None without one or with a fixed one), ``mode``, ``config``."""
    conf_dir = Path(a.conf_dir)
    path, cfg, mode = describe(conf_dir, a.conf_tag, s, a.train_set.split())
    dynamic = bool(cfg["data"]["dynamic_mixing"])
    inputs = [str(path)] + ([str(common)] if common.is_file() else []) + ["data/train", "data/valid"]
    tcfg, sets, t = "", [], None
    fixed = fixed_teacher(cfg)
    if mode.uses_teacher and fixed:  # the config names another system's checkpoint
        tcfg = f"teacher={fixed}"
    elif mode.uses_teacher:
        t = by_tag.get(split_seed(s)[0].partition(TEACHER_SEP)[2], teacher)
        tp = teacher_path(t, teacher, a.recipe_dir)
        feats = resolve_auto("teacher_features", a.teacher_features, a.corpus)
        feats = ("online" if dynamic else "dumped") if feats == "by-mixing" else feats
        sets = [f"teacher.path={tp}", f"teacher.features={feats}"]
        if feats == "dumped":
            dump = f"dump/{tag(tp, a.recipe_dir)}/train"
            sets.append(f"teacher.dump_dir={dump}")
            inputs.append(dump)
        local = _RANDOM.sub(r"\2", tp)
        if Path(local).is_dir() or local == teacher_path("pretrain", teacher, a.recipe_dir):  # (made in stage 2)
            inputs.append(local)
        tcfg = f"teacher={t} features={feats}"
    aug = augment.merge_defaults(cfg["augment"])
    if "reverb" in augment.enabled(aug) and dynamic:
        inputs.append(str(Path(aug["reverb"]["rir_scp"]).parent))
    inputs += [i["checkpoint"] for i in cfg.get("init") or []] + ([fixed] if fixed else [])
    seed = split_seed(s)[1]
    if seed is not None:
        sets.append(f"train.seed={seed}")
    sets += a.train_set.split()
    if a.train_set.split():  # (only then: the stamps of runs without overrides stay valid)
        tcfg += f" set={' '.join(a.train_set.split())}"
    return {"conf": str(path), "inputs": " ".join(inputs), "sets": sets, "teacher": t, "mode": mode, "config": cfg,
            "cfg": f"mode={s} {tcfg}",  # (the trailing space of teacher-less systems keeps old stamps valid)
            "input": "spk1.scp" if cfg["mode"] == "pretrain_dec_teacher" else "wav.scp"}


def _record(out: dict, s: str, e: dict) -> None:
    out["s_conf"][s], out["s_inputs"][s], out["s_cfg"][s] = e["conf"], e["inputs"], e["cfg"]
    out["s_set"][s] = " ".join(["--set"] + e["sets"]) if e["sets"] else ""
    if e["mode"].enhances:
        out["s_input"][s] = e["input"]


def plan(a) -> dict:
    """The assignments described in the module docstring, from the parsed options ``a``."""
    teacher = resolve_auto("teacher", a.teacher, a.corpus)
    ablation = resolve_auto("ablation", a.ablation, a.corpus).split()
    tabl = resolve_auto("teacher_ablation", a.teacher_ablation, a.corpus).split()
    check = resolve_auto("teacher_check", a.teacher_check, a.corpus)
    storage = resolve_auto("feature_storage", a.feature_storage, a.corpus)
    if storage not in ("float32", "two-byte", "speech-feature"):
        raise PlanError(f"--feature-storage must be auto, float32, two-byte or speech-feature, not '{storage}'")
    if a.teacher_features not in ("auto", "dumped", "online"):
        raise PlanError(f"--teacher-features must be auto, dumped or online, not '{a.teacher_features}'")
    modes = a.modes.split()
    systems = modes + ablation + (["base"] if ablation and "base" not in modes else [])
    teacher_systems = [f"{m}{TEACHER_SEP}{tag(t, a.recipe_dir)}" for t in tabl for m in a.teacher_ablation_modes.split()]
    pretraining = resolve_auto("pretraining", a.pretraining, a.corpus).split()
    a.analysis = resolve_auto("analysis", a.analysis, a.corpus)
    conf_dir = Path(a.conf_dir)
    systems = with_dependencies(conf_dir, a.conf_tag, _unique(systems + teacher_systems + pretraining
                                                              + analysis_systems(a.analysis == "true")))
    by_tag = {tag(t, a.recipe_dir): t for t in tabl}
    common = conf_file(conf_dir, a.conf_tag, "train_common")
    out = {"s_conf": {}, "s_inputs": {}, "s_cfg": {}, "s_set": {}, "s_input": {}}
    enhance, table2, table3 = [], [], []
    first = set(modes + ablation + teacher_systems)
    users, s_teacher, mode_of = [], {}, {}
    for s in systems:
        e = system_plan(a, s, teacher, by_tag, common)
        mode_of[s] = e["mode"]
        if e["teacher"]:
            users.append(s)
            s_teacher[s] = e["teacher"]
        if e["mode"].enhances:
            enhance.append(s)
            cfg = e["config"]
            if s not in first and s not in ANALYSIS_SYSTEMS and (cfg["mode"] != "base" or cfg["init"]):  # pre-training
                (table3 if cfg["mode"] == "base" and cfg["train"]["max_steps"] > 0 else table2).append(s)
        _record(out, s, e)
    used = _unique(s_teacher.values())
    dumped = [s for s in users if "teacher.features=dumped" in out["s_set"][s]]
    dump_teachers = _unique(s_teacher[s] for s in dumped)
    streams = {t: sorted({k for s in dumped if s_teacher[s] == t for k in mode_of[s].streams()}) for t in dump_teachers}
    paths = {t: teacher_path(t, teacher, a.recipe_dir) for t in used}
    pretrain_dir = teacher_path("pretrain", teacher, a.recipe_dir)
    check_teachers = [t for t in used if check == "true" and not _RANDOM.match(paths[t])]
    peers = available_peers(a.peers.split())
    held = resolve_auto("heldout_systems", a.heldout_systems, a.corpus).split()
    heldout = [s for s in enhance if s in held + ablation + (["base"] if ablation else [])]
    out.update(teacher=teacher, ablation=" ".join(ablation), teacher_ablation=" ".join(tabl), teacher_check=check,
               pretraining=" ".join(pretraining), systems=" ".join(systems), enhance_systems=" ".join(enhance),
               heldout_systems=" ".join(heldout),
               teacher_users=" ".join(users),
               pretrain_used="true" if any(_RANDOM.sub(r"\2", p) == pretrain_dir for p in paths.values()) else "false",
               check_teachers=" ".join(check_teachers), dump_teachers=" ".join(dump_teachers),
               dump_storage=storage,
               peers_available=" ".join(peers),
               t_path=paths, t_tag={t: tag(t, a.recipe_dir) for t in used},
               t_dump={t: f"dump/{tag(paths[t], a.recipe_dir)}/train" for t in used},
               t_streams={t: " ".join(v) for t, v in streams.items()},
               train_confs=", ".join(sorted({out["s_conf"][s].replace(split_seed(s)[0].partition(TEACHER_SEP)[0],
                                                                      "<system>", 1) for s in systems})))
    out["results_args"] = results_args(modes, ablation, systems, teacher_systems, a.teacher_ablation_modes.split(),
                                       peers, [f"exp/teacher_check/{tag(t, a.recipe_dir)}.json" for t in check_teachers],
                                       out["pretrain_used"] == "true")
    snr = [s for s in resolve_auto("snr_systems", a.snr_systems, a.corpus).split() if s in enhance]
    sets = a.test_sets.split()
    out["set_systems"] = {t: " ".join(enhance if i == 0 else snr if t.startswith("test_snr") else heldout)
                          for i, t in enumerate(sets)}  # test_heldout, test_real and its SNR copies: heldout
    out["set_refs"] = {t: "noisy" if "_snr" in t else "clean noisy" for t in sets}
    sphinx = (set(resolve_auto("sphinx_systems", a.sphinx_systems, a.corpus).split()) | set(table2) | set(table3)
              | set(ANALYSIS_SYSTEMS))
    out["s_asr"] = {s: "whisper" + (" sphinx_per" if s in sphinx else "") for s in enhance}
    out["s_asr"].update(clean="whisper sphinx", noisy="whisper sphinx_per")
    analysis = plan_analysis(a, systems, modes, table3, teacher_path(teacher, teacher, a.recipe_dir))
    for s in analysis["seed_runs"].split():
        _record(out, s, system_plan(a, s, teacher, by_tag, common))
        out["s_asr"][s] = "none"  # the seed spread is of PESQ / STOI / SI-SDR: no ASR (about 1 min each)
    out.update(analysis)
    from ..asr import describe_decoding
    # the scoring stage's config: what changes a score; the parts at their historical defaults (greedy,
    # Whisper only) are left out so that stamps written before they existed stay valid
    decoding = describe_decoding()
    extra = "" if decoding == "beam_size=1" else f" decoding={decoding}"
    out["score_cfg"] = {s: f"asr={a.asr_model}{extra}" + ("" if r == "whisper" else f" recognisers={r}")
                        for s, r in out["s_asr"].items()}
    out["score_cfg_whisper"] = f"asr={a.asr_model}{extra}"
    if analysis["analysis"] == "true":
        out["results_args"] += ["--analysis-dir", "exp/analysis"]
        out["results_args"] += [x for s, lab in (("pretrain_dec_teacher", "(b) teacher"), ("resynth_student", "(c) student"))
                                if s in systems for x in ["--decoded-row", lab, f"exp/{s}"]]
        if "student" in systems:
            out["results_args"] += ["--student", "exp/student/best.pt"]
    seeds = a.train_seeds.split()
    for s in _unique(split_seed(x)[0] for x in analysis["seed_runs"].split()):
        out["results_args"] += ["--seed-row", LABELS.get(s, s), " ".join([f"exp/{s}"] + [f"exp/{s}_seed{n}" for n in seeds])]
    untabled = [s for s in systems if s not in enhance]
    if untabled:
        out["results_args"] += ["--trained", *untabled]
    if any(t.startswith("test_snr") for t in sets):
        out["results_args"] += ["--snr-row", "Noisy input", "exp/noisy"]
        out["results_args"] += [x for s in snr for x in ["--snr-row", LABELS.get(s, s), f"exp/{s}"]]
    if table2:
        out["results_args"] += [x for s in table2 for x in ["--pretrain-row", LABELS.get(s, s), f"exp/{s}", f"exp/{s}/best.pt"]]
    if table3:
        out["results_args"] += [x for s in (["base"] if "base" in systems else []) + table3
                                for x in ["--finetune-row", LABELS.get(s, s), f"exp/{s}", f"exp/{s}/best.pt"]]
    return out


#: the training-corpus ablation (conf/train_base_{synthetic,realvoices}[_long]_<tag>.yaml): its table's rows
CORPUS_ABLATION = ("base_synthetic", "base", "base_realvoices", "base_synthetic_long", "base_long", "base_realvoices_long")
CORPUS_LABELS = {"base_synthetic": "(a) TTS voices, procedural noise", "base": "(b) (a) + real noise (default)",
                 "base_realvoices": "(c) (b) + real voices", "base_synthetic_long": "(a), 4x steps",
                 "base_long": "(b), 4x steps", "base_realvoices_long": "(c), 4x steps"}


def results_args(modes, ablation, systems, teacher_systems, tabl_modes, peers, checks, pretrain_used) -> list[str]:
    """Arguments of seslib.bin.results for stage 6: Table 1, the data ablation, the teacher ablation
    (Tables 2 and 3, ``--pretrain-row`` and ``--finetune-row``, are added by :func:`plan`)."""
    def row(flag, s, source=None):
        return [flag, LABELS.get(s, s), f"exp/{s}", source or f"exp/{s}/best.pt"]
    args = ["--row", "Clean speech (reference)", "exp/clean", "clean", "--row", "Noisy input", "exp/noisy", "noisy"]
    args += [x for m in modes for x in row("--row", m)]
    args += [x for p in peers for x in row("--row", f"peer_{p}", f"peer:{p}")]
    variants = {s for s in CORPUS_ABLATION if s.startswith(("base_synthetic", "base_realvoices"))}
    corpus = [s for s in CORPUS_ABLATION if s in ablation + ["base"]] if set(ablation) & variants else []
    data_abl = [s for s in ablation if s not in corpus]
    if data_abl:
        args += ["--ablation-row", "Noisy input", "exp/noisy", "noisy"]
        args += [x for s in data_abl + ["base"] for x in row("--ablation-row", s)]
    if corpus:
        args += ["--corpus-row", "Noisy input", "exp/noisy", "noisy"]
        args += [x for s in corpus for x in ["--corpus-row", CORPUS_LABELS[s], f"exp/{s}", f"exp/{s}/best.pt"]]
    if teacher_systems:
        if "base" in modes:
            args += row("--teacher-row", "base")
        for m in tabl_modes:
            for s in ([m] if m in systems else []) + [s for s in teacher_systems if s.startswith(m + TEACHER_SEP)]:
                args += ["--teacher-row", LABELS.get(m, m), f"exp/{s}", f"exp/{s}/best.pt"]
    if checks:
        args += ["--teacher-check"] + checks
    if pretrain_used:
        args += ["--teacher-dir", "exp/teacher"]
    return args


def available_peers(names) -> list[str]:
    """The peers in ``names`` that run here; the others are reported on stderr."""
    from .. import peers as peer_lib
    unknown = [n for n in names if n not in peer_lib.PEERS]
    if unknown:
        raise PlanError(f"unknown peer(s) {' '.join(unknown)}: choose from {' '.join(peer_lib.PEERS)}")
    ok = []
    for n in names:
        try:
            peer_lib.PEERS[n]()
            ok.append(n)
        except (RuntimeError, OSError, ImportError) as exc:
            print(f"run.sh: peer {n} is not available here (optional extra): skipped ({exc})", file=sys.stderr)
    return ok


def to_shell(assignments: dict) -> str:
    lines = []
    for k, v in assignments.items():
        if isinstance(v, dict):
            items = " ".join(f"[{shlex.quote(kk)}]={shlex.quote(vv)}" for kk, vv in v.items())
            lines.append(f"declare -gA {k}=({items})")
        elif isinstance(v, list):
            lines.append(f"{k}=({' '.join(shlex.quote(x) for x in v)})")
        else:
            lines.append(f"{k}={shlex.quote(v)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.describe_systems", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conf-dir", default="conf", help="directory of train_<system>_<tag>.yaml (default conf)")
    p.add_argument("--conf-tag", "--tag", required=True, help="config tag (the corpus name, or e.g. tiny)")
    p.add_argument("--corpus", required=True, help="corpus name, for the 'auto' options")
    p.add_argument("--recipe-dir", default=str(Path.cwd()), help="absolute recipe dir (default: the current dir)")
    p.add_argument("--modes", default="", help="Table 1's systems, space-separated")
    p.add_argument("--ablation", default="auto", help="data-ablation systems, or auto")
    p.add_argument("--teacher", default="auto", help="the main teacher, or auto")
    p.add_argument("--teacher-ablation", default="auto", help="teachers of the teacher ablation, or auto")
    p.add_argument("--teacher-ablation-modes", default="", help="modes trained with each teacher of the ablation")
    p.add_argument("--teacher-features", default="auto", help="auto, dumped or online")
    p.add_argument("--feature-storage", default="auto",
                   help="storage of dumped features: float32, two-byte, speech-feature, or auto (dns two-byte)")
    p.add_argument("--train-set", default="",
                   help="'key=value ...' overrides of every training config (e.g. 'train.max_steps=300')")
    p.add_argument("--teacher-check", default="auto", help="true, false or auto")
    p.add_argument("--pretraining", default="auto",
                   help="pre-training systems of Tables 2-3 (their dependencies are added), or auto")
    p.add_argument("--peers", default="", help="peers to compare, space-separated")
    p.add_argument("--asr-model", default="", help="the Whisper dir of the WER scoring ('': the bundled one)")
    p.add_argument("--test-sets", default="test", help="test sets, the main one first (default test)")
    p.add_argument("--heldout-systems", default="auto", help="systems scored on the held-out-voice set, or auto")
    p.add_argument("--snr-systems", default="auto", help="systems scored on the test_snr* sets, or auto")
    p.add_argument("--sphinx-systems", default="auto",
                   help="systems whose scoring adds the independent recogniser's phone error rate, or auto")
    add_options(p)
    a = p.parse_args(argv)
    a.recipe_dir = str(Path(a.recipe_dir).resolve())
    try:
        print(to_shell(plan(a)))
    except PlanError as exc:
        print(f"describe_systems: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
