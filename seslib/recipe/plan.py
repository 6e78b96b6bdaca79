"""A run's plan: every system, teacher, test set and report row, from se.sh's options, written
to ``exp/plan/`` for the stages to read.

  python -m seslib.recipe.plan make --out exp/plan --recipe-dir "$PWD" --corpus mini ...
  python -m seslib.recipe.plan seeds --plan exp/plan     # stage 6, once stage 5 has scored

``make`` writes (atomically: the previous plan stays whole until the new one is complete):

  options.json        the options it was made from (stage 6's ``seeds`` plans again from them)
  test_sets           the test sets found in data/, the main one first
  train/<S>.yaml      system S's training config, resolved (defaults, conf/modes/S.yaml, the recipe's
                      layers, the teacher, --train-set): exactly what exp/<S>/config.yaml will hold
  stage2_pretrain     the offline teacher's pre-training config (present when a system uses it)
  stage2_checks.tsv   teachers whose content is checked: name, tag, spec
  stage2_dumps.tsv    teachers whose features of data/train are dumped: name, tag, spec, dump dir,
                      storage, streams
  stage3.tsv          systems in training order (each after those its init reads): system, config, inputs
  stage4.tsv          enhancement: set, row, model (a checkpoint or peer:<name>), input scp
  stage5.tsv          scoring: set, row, hypothesis scp, recognisers ("none": no ASR), DNSMOS (true/false),
                      stamp config
  stage6_lags.args, stage6_spectra.args   the analysis tools' arguments (one per line)
  stage7.args         seslib.bin.results's arguments: every table's rows, title and note

  stage6_train.tsv, stage6_enhance.tsv, stage6_score.tsv, stage7_seeds.args, train/<S>_seed<N>.yaml
                      the seed spread, chosen from the scores on disk (none before stage 5)

``seeds`` writes the seed spread's files again, from the scores stage 5 has just written. TSV files start with a
``#`` header line; list columns are space-separated and last.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

from .. import augment
from ..premixed import test_sets as find_test_sets
from .analysis import curve_args, lag_args, seed_spread, spectra_args
from .experiments import ExperimentsError, load_experiments
from . import budget
from .systems import TEACHER_SEP, PlanError, SystemConfigs, fixed_teacher, split_seed, split_steps, split_teacher
from .teachers import is_random, pretrain_dir, teacher_spec, teacher_tag, weights_dir

#: se.sh's options that the plan reads, with their defaults ("auto": the experiment matrix's value)
OPTIONS = {
    "corpus": "mini", "conf_tag": "", "modes": "auto", "ablation": "", "teacher": "whisper-tiny.en",
    "teacher_ablation": "", "teacher_ablation_modes": "auto", "teacher_features": "auto",
    "feature_storage": "float32", "train_set": "", "teacher_check": "false", "teacher_conf": "",
    "pretraining": "auto", "peers": "", "asr_model": "", "snr_variants_of": "test", "test_snrs": "",
    "test_snr": "-5 -5", "heldout_systems": "auto", "snr_systems": "auto", "sphinx_systems": "auto",
    "analysis": "true", "train_seeds": "", "seed_systems": "auto", "max_seed_systems": "1", "dnsmos_sets": "",
    "budget_matched": "true", "snr_definition": "global",
}
STORAGES = ("float32", "two-byte", "speech-feature")


def _unique(items) -> list:
    return list(dict.fromkeys(items))


def _auto(value: str, default) -> list[str]:
    return list(default) if value == "auto" else value.split()


class Planner:
    """The plan of one run. Args: ``opts``: :data:`OPTIONS` values; ``recipe_dir``: the recipe's
    absolute path; ``shared_conf``: the repository's ``conf/`` (modes, experiment matrix)."""

    def __init__(self, opts: dict, recipe_dir: str, shared_conf: str, experiments: str = ""):
        self.o, self.recipe = {**OPTIONS, **opts}, recipe_dir  # (a plan of an older version lacks newer options)
        self.x = load_experiments(experiments or Path(shared_conf) / "experiments" / "paper.yaml")
        conf = Path(recipe_dir) / "conf"
        conf = conf.relative_to(Path.cwd()) if conf.is_relative_to(Path.cwd()) else conf  # (shorter messages)
        self.configs = SystemConfigs(Path(shared_conf) / "modes", conf, opts["conf_tag"] or opts["corpus"])
        self.configs.check_tag(explicit=bool(opts["conf_tag"]))
        self.plan_dir = "exp/plan"  # where the plan's files are read from (a dry run's is a temporary dir)
        if opts["feature_storage"] not in STORAGES:
            raise PlanError(f"--feature-storage must be one of {', '.join(STORAGES)}, not '{opts['feature_storage']}'")
        if opts["teacher_features"] not in ("auto", "dumped", "online"):
            raise PlanError(f"--teacher-features must be auto, dumped or online, not '{opts['teacher_features']}'")
        self.teacher = opts["teacher"]
        self.modes = self.x.chosen(opts["modes"], "table1")
        self.ablation = opts["ablation"].split()
        self.tabl = opts["teacher_ablation"].split()
        self.tabl_modes = _auto(opts["teacher_ablation_modes"], self.x.teacher_ablation_modes)
        self.analysis = opts["analysis"] == "true"
        self.teacher_systems = [f"{m}{TEACHER_SEP}{teacher_tag(t, recipe_dir)}" for t in self.tabl for m in self.tabl_modes]
        self.by_tag = {teacher_tag(t, recipe_dir): t for t in self.tabl}
        first = self.modes + self.ablation + (["base"] if self.ablation and "base" not in self.modes else [])
        self.first = set(first + self.teacher_systems)  # the rest: pre-training, analysis, what they read
        self.systems = self.configs.with_dependencies(_unique(
            first + self.teacher_systems + self.x.chosen(opts["pretraining"], "pretraining")
            + (self.x.analysis if self.analysis else [])))
        self.entries = {s: self.system(s) for s in self.systems}
        self.enhance = [s for s in self.systems if self.entries[s]["mode"].enhances]
        self._check_tables()
        self._match_budgets()

    # -- one system ------------------------------------------------------------------------
    def system(self, s: str) -> dict:
        """How system ``s`` is trained: ``config`` (resolved), ``mode``, ``teacher`` (its teacher's
        name; None without one or with one its config fixes), ``inputs`` (stage 3's besides its config)
        and ``input`` (what stage 4 feeds it)."""
        cfg, mode = self.configs.load(s)
        dynamic = bool(cfg["data"]["dynamic_mixing"])
        sets, inputs, name = [], ["data/train", "data/valid"], None
        fixed = fixed_teacher(cfg)
        if mode.uses_teacher and not fixed:
            name = self.by_tag.get(split_teacher(s)[1], self.teacher)
            spec = teacher_spec(name, self.teacher, self.recipe)
            feats = self.o["teacher_features"]
            feats = ("online" if dynamic else "dumped") if feats == "auto" else feats
            sets = [f"teacher.spec={spec}", f"teacher.features={feats}"]
            if feats == "dumped":
                dump = f"dump/{teacher_tag(spec, self.recipe)}/train"
                sets.append(f"teacher.dump_dir={dump}")
                inputs.append(dump)
            local = weights_dir(spec)
            if Path(local).is_dir() or local == pretrain_dir(self.recipe):  # (made in stage 2)
                inputs.append(local)
        aug = augment.merge_defaults(cfg["augment"])
        if "reverb" in augment.enabled(aug) and dynamic:
            inputs.append(str(Path(aug["reverb"]["rir_scp"]).parent))
        inputs += [i["checkpoint"] for i in cfg.get("init") or []] + ([fixed] if fixed else [])
        seed, steps = split_seed(s)[1], split_steps(s)[1]
        if dynamic:  # the SNR of the mixtures made on the fly, as stage 1's (--snr-definition)
            sets.append(f"data.snr_definition={self.o['snr_definition']}")
        sets += ([f"train.seed={seed}"] if seed is not None else []) + self.o["train_set"].split()
        sets += [f"train.max_steps={steps}"] if steps is not None else []  # (the name wins over --train-set)
        if split_steps(s)[0] in self.x.assembled and cfg["train"]["max_steps"] != 0:  # (before --train-set)
            raise PlanError(f"system '{s}' is assembled, not trained (conf/experiments: assembled), but its config "
                            f"({', '.join(map(str, self.configs.layers(s)))}) trains {cfg['train']['max_steps']} steps")
        cfg, mode = self.configs.load(s, sets)
        return {"config": cfg, "mode": mode, "teacher": name, "inputs": inputs,
                "input": "spk1.scp" if cfg["mode"] == "pretrain_dec_teacher" else "wav.scp"}

    def _check_tables(self) -> None:
        """Every enhancing pre-training system is in table 2 or 3 of the matrix (named, not inferred)."""
        self.table2, self.table3 = [], []
        for s in self.enhance:
            if s in self.first or s in self.x.analysis:
                continue
            table = self.x.table_of(s)
            if table is None:
                raise PlanError(f"system '{s}' (--pretraining) is in neither table2 nor table3 of the experiment "
                                "matrix: add it to one")
            (self.table2 if table == "table2" else self.table3).append(s)

    def budget(self, s: str) -> dict:
        """System ``s``'s total training budget, pre-training included (:func:`seslib.recipe.budget.total`)."""
        return budget.total(s, lambda x: self.entries[x]["config"])

    def _match_budgets(self) -> None:
        """With --budget-matched true, a Base of each Table 3 chain's total steps (``base_steps<N>``),
        trained, enhanced and scored as the Table 3 rows are; ``self.matched``: Table 3 system -> it."""
        self.matched = {}
        if self.o["budget_matched"] not in ("true", "false"):
            raise PlanError(f"--budget-matched must be true or false, not '{self.o['budget_matched']}'")
        if self.o["budget_matched"] != "true" or "base" not in self.systems:
            return
        own = self.entries["base"]["config"]["train"]["max_steps"]
        for t in self.table3:
            steps = self.budget(t)["steps"]
            if steps != own:
                self.matched[t] = budget.matched_base(steps)
        for m in _unique(self.matched.values()):
            if m not in self.systems:
                self.systems.append(m)
                self.entries[m] = self.system(m)
                self.enhance.append(m)

    # -- teachers ----------------------------------------------------------------------------
    def teachers(self) -> dict:
        """Per teacher name used: spec, tag, dump dir, whether dumped and the streams dumped."""
        users = [s for s in self.systems if self.entries[s]["teacher"]]
        out = {}
        for s in users:
            t = self.entries[s]["teacher"]
            spec = teacher_spec(t, self.teacher, self.recipe)
            e = out.setdefault(t, {"spec": spec, "tag": teacher_tag(t, self.recipe), "streams": set(),
                                   "dump": f"dump/{teacher_tag(spec, self.recipe)}/train", "dumped": False})
            if self.entries[s]["config"]["teacher"]["features"] == "dumped":
                e["dumped"] = True
                e["streams"] |= set(self.entries[s]["mode"].streams())
        return out

    # -- the files -----------------------------------------------------------------------------
    def pretrain_used(self, teachers: dict) -> bool:
        """Whether a system uses the offline pre-trained teacher (stage 2 trains it)."""
        return any(weights_dir(t["spec"]) == pretrain_dir(self.recipe) for t in teachers.values())

    def snr_systems(self) -> list[str]:
        return [s for s in _auto(self.o["snr_systems"], self.x.snr_systems) if s in self.enhance]

    def heldout(self) -> list[str]:
        held = _auto(self.o["heldout_systems"], self.x.heldout_systems)
        return [s for s in self.enhance if s in held + self.ablation + (["base"] if self.ablation else [])]

    # -- the files -----------------------------------------------------------------------------
    def files(self, data_dir: str = "data") -> dict[str, str]:
        """The plan's files (name -> text), as listed in the module docstring."""
        o, f = self.o, {}
        sets = find_test_sets(data_dir, o["snr_variants_of"].split(), o["test_snrs"].split())
        teachers = self.teachers()
        f["options.json"] = json.dumps(o, indent=1) + "\n"
        f["test_sets"] = "".join(t + "\n" for t in sets)
        for s in self.systems:
            f[f"train/{s}.yaml"] = self.config_text(s)
        if self.pretrain_used(teachers):
            f["stage2_pretrain"] = (o["teacher_conf"] or f"conf/teacher_{o['corpus']}.yaml") + "\n"
        checks = [t for t in teachers.values() if o["teacher_check"] == "true" and not is_random(t["spec"])]
        f["stage2_checks.tsv"] = _tsv(("name", "tag", "spec"), [(n, t["tag"], t["spec"]) for n, t in teachers.items()
                                                               if t in checks])
        f["stage2_dumps.tsv"] = _tsv(("name", "tag", "spec", "dump_dir", "storage", "streams"), [
            (n, t["tag"], t["spec"], t["dump"], o["feature_storage"], " ".join(sorted(t["streams"])))
            for n, t in teachers.items() if t["dumped"]])
        f["stage3.tsv"] = _tsv(("system", "config", "inputs"), [self.train_row(s) for s in self.systems])
        rows4, rows5 = [], []
        for i, t in enumerate(sets):
            systems = self.enhance if i == 0 else self.snr_systems() if t.startswith("test_snr") else self.heldout()
            rows4 += [(t, s, f"exp/{s}/best.pt", self.entries[s]["input"]) for s in systems]
            refs = ["noisy"] if "_snr" in t else ["clean", "noisy"]
            rows5 += [(t, r, f"data/{t}/{'spk1' if r == 'clean' else 'wav'}.scp") + self.scorers(r, t, i == 0)
                      for r in refs]
            rows5 += [(t, s, f"exp/{s}/enhanced_{t}/wav.scp") + self.scorers(s, t, i == 0) for s in systems]
            if "_snr" not in t:  # peers: on the -5 dB sets
                rows4 += [(t, f"peer_{q}", f"peer:{q}", "wav.scp") for q in o["peers"].split()]
                rows5 += [(t, f"peer_{q}", f"exp/peer_{q}/enhanced_{t}/wav.scp") + self.scorers(f"peer_{q}", t, False)
                          for q in o["peers"].split()]
        f["stage4.tsv"] = _tsv(("set", "row", "model", "input_scp"), rows4)
        f["stage5.tsv"] = _tsv(("set", "row", "hyp_scp", "recognisers", "dnsmos", "stamp_config"), rows5)
        if self.analysis:
            spec = teacher_spec(self.teacher, self.teacher, self.recipe)
            f["stage6_lags.args"] = "".join(a + "\n" for a in lag_args(self.systems, spec))
            f["stage6_spectra.args"] = "".join(a + "\n" for a in spectra_args(self.systems))
            keep = self.entries["pretrain_dec_teacher"]["config"]["train"]["keep_every"] \
                if "pretrain_dec_teacher" in self.entries else 0
            f["stage6_curve.args"] = "".join(a + "\n" for a in curve_args(self.systems, keep))
        from .report_rows import rows
        args = rows(self, teachers, checks, sets)
        args += ["--sets", *[t for t in sets if "_snr" not in t], "--snr-sets", *[t for t in sets if "_snr" in t]]
        args += ["--title", self.title(data_dir), "--note", self.note(sets, data_dir)]
        f["stage7.args"] = "".join(a + "\n" for a in args)
        f.update(self.seeds_files(sets[0]))
        return f

    def seeds_files(self, main: str) -> dict[str, str]:
        """The seed spread (``stage6_*``, ``stage7_seeds.args``), chosen from the scores on disk now."""
        candidates = [s for s in self.modes + self.table3 if s != "base"]
        runs, chosen = seed_spread(self.o, self.systems, candidates, self.recipe, main, self.matched)
        f = {"stage6_chosen": chosen + "\n" if chosen else ""}
        for s in runs:
            self.entries[s] = self.system(s)
            f[f"train/{s}.yaml"] = self.config_text(s)
        f["stage6_train.tsv"] = _tsv(("system", "config", "inputs"), [self.train_row(s) for s in runs])
        f["stage6_enhance.tsv"] = _tsv(("set", "row", "model", "input_scp"),
                                       [(main, s, f"exp/{s}/best.pt", self.entries[s]["input"]) for s in runs])
        f["stage6_score.tsv"] = _tsv(("set", "row", "hyp_scp", "recognisers", "dnsmos", "stamp_config"),
                                     [(main, s, f"exp/{s}/enhanced_{main}/wav.scp") + self.scorers(s, main, True)
                                      for s in runs])
        seed_rows = []
        for s in _unique(split_seed(x)[0] for x in runs):
            seed_rows += ["--seed-row", self.x.label(s),
                          " ".join([f"exp/{s}"] + [f"exp/{s}_seed{n}" for n in self.o["train_seeds"].split()])]
        f["stage7_seeds.args"] = "".join(a + "\n" for a in seed_rows)
        return f

    def config_text(self, s: str) -> str:
        layers = ", ".join(map(str, self.configs.layers(s)))
        head = f"# {s}: written by seslib.recipe.plan from {layers}, the run's teacher and --train-set\n"
        return head + yaml.safe_dump(self.entries[s]["config"], sort_keys=False, default_flow_style=None, width=110)

    def train_row(self, s: str) -> tuple:
        return (s, f"{self.plan_dir}/train/{s}.yaml", " ".join(self.entries[s]["inputs"]))

    def scorers(self, row: str, test_set: str, main_set: bool) -> tuple[str, str, str]:
        """(recognisers, DNSMOS true/false, stamp config) of scoring ``row`` on ``test_set``.

        Recognisers: Whisper everywhere; on the main set also
        PocketSphinx's phone error rate for the noisy input, the sphinx systems, Tables 2-3 and the
        analysis systems, and its word search for the clean speech; ``none`` for the seed spread."""
        sphinx = set(_auto(self.o["sphinx_systems"], self.x.sphinx_systems)) | set(self.table2) | set(self.table3) \
            | set(self.x.analysis) | set(self.matched.values())
        if not main_set:
            rec = "whisper"
        elif split_seed(row)[1] is not None:
            rec = "none"
        elif row == "clean":
            rec = "whisper sphinx"
        elif row == "noisy" or (row in sphinx and row in self.enhance):
            rec = "whisper sphinx_per"
        else:
            rec = "whisper"
        # DNSMOS (about twice Whisper's time per utterance): every row of --dnsmos-sets, not the seed spread
        dnsmos = test_set in self.o["dnsmos_sets"].split() and split_seed(row)[1] is None
        from ..asr import describe_decoding
        from ..dnsmos import MODELS
        stamp = f"asr={self.o['asr_model']} decoding={describe_decoding()} recognisers={rec}"
        return rec, str(dnsmos).lower(), stamp + (f" dnsmos={MODELS}" if dnsmos else "")

    def title(self, data_dir: str) -> str:
        lo, hi = self.o["test_snr"].split()
        snr = lo if lo == hi else f"{lo}..{hi}"
        mixed = (Path(data_dir) / "test" / "noise1.scp").is_file()
        return f"Results: corpus {self.o['corpus']}, " + (f"test sets at {snr} dB SNR" if mixed else "pre-mixed test set")

    def note(self, sets, data_dir: str) -> str:
        o = self.o
        counts = ", ".join(f"{t} ({_lines(Path(data_dir) / t / 'wav.scp')} utterances)" for t in sets)
        common = self.configs.common()
        layers = (f"conf/{common.name}, " if common else "") + "the repository's conf/modes/<system>.yaml and the " \
            f"recipe's conf/train_<system>_{self.configs.tag}.yaml or conf/train_<system>.yaml where it has one"
        teacher = o["teacher"]
        if teacher == "pretrain":
            teacher += f" ({o['teacher_conf'] or 'conf/teacher_' + o['corpus'] + '.yaml'})"
        if teacher == "whisper-tiny.en":
            teacher += (" (the encoder of the bundled Whisper tiny.en: a supervised ASR model, not an SSL model; "
                        "no SSL weights ship offline)")
        return (f"Generated by `./run.sh --corpus {o['corpus']} --modes '{' '.join(self.modes)}' --ablation "
                f"'{o['ablation']}' --teacher '{o['teacher']}' --teacher-ablation '{o['teacher_ablation']}' "
                f"--pretraining '{o['pretraining']}'` (stage 7 writes this file). Test sets: {counts}. Training "
                f"configs: exp/plan/train/<system>.yaml, layered from {layers}; teacher: {teacher}.")


def _lines(path: Path) -> int:
    try:
        return sum(1 for _ in path.open(encoding="utf-8"))
    except OSError:
        return 0


def _tsv(header, rows) -> str:
    return "#" + "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows)


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


def write_plan(files: dict, out) -> None:
    """Write ``files`` as the plan dir ``out``, replacing the previous plan only once all are written."""
    out = Path(out)
    tmp, old = out.parent / f".{out.name}.tmp", out.parent / f".{out.name}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text, encoding="utf-8")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def seeds_files(plan_dir, recipe_dir: str, shared_conf: str) -> dict[str, str]:
    """The seed spread's files, chosen again from the scores on disk, for the plan in ``plan_dir``."""
    plan_dir = Path(plan_dir)
    opts = json.loads((plan_dir / "options.json").read_text(encoding="utf-8"))
    p = Planner(opts, recipe_dir, shared_conf, opts.get("experiments", ""))
    p.plan_dir = str(plan_dir)
    return p.seeds_files((plan_dir / "test_sets").read_text().split()[0])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.recipe.plan", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make", help="plan a run from se.sh's options and write exp/plan")
    m.add_argument("--out", default="exp/plan", help="the plan dir (default exp/plan)")
    m.add_argument("--data-dir", default="data", help="where the test sets are found (default data)")
    for k, v in OPTIONS.items():
        m.add_argument("--" + k.replace("_", "-"), default=v, help=f"se.sh's --{k.replace('_', '-')} (default '{v}')")
    x = sub.add_parser("mixes", help="stage 1's mixing plan, tab-separated: mix SET SEED SNR NUM_UTTS and "
                       "copy SET SEED SNR NAME (seslib.recipe.mixes)")
    x.add_argument("--src", required=True, help="the prepared corpus (data/local/<corpus>)")
    x.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    x.add_argument("--train-snr", default="-5 5", help="SNR range of train/valid (default '-5 5')")
    x.add_argument("--test-snr", default="-5 -5", help="SNR range of the test sets (default '-5 -5')")
    for k in ("train_hours", "valid_hours", "segment_seconds"):
        x.add_argument("--" + k.replace("_", "-"), type=float, default=0.0, help="se.sh's option (default 0)")
    x.add_argument("--of", default="", help="sets mixed again at --snrs")
    x.add_argument("--snrs", default="", help="SNRs of the copies")
    s = sub.add_parser("seeds", help="add the seed spread (stage 6) to the plan in --plan")
    s.add_argument("--plan", default="exp/plan", help="the plan dir (default exp/plan)")
    for c in (m, s):  # (mixes reads no config)
        c.add_argument("--recipe-dir", default=str(Path.cwd()), help="the recipe dir (default: the current dir)")
        c.add_argument("--shared-conf", default=str(Path(__file__).resolve().parents[2] / "conf"),
                       help="the repository's conf/ (modes, experiment matrices; default: beside seslib)")
        c.add_argument("--experiments", default="", help="experiment matrix (default <shared-conf>/experiments/paper.yaml)")
    a = p.parse_args(argv)
    try:
        if a.cmd == "mixes":
            from .mixes import mix_rows, mixture_counts
            counts = mixture_counts(a.train_hours, a.valid_hours, a.segment_seconds)
            for row in mix_rows(a.src, a.seed, a.train_snr, a.test_snr, counts, a.of.split(), a.snrs.split()):
                print("\t".join(row))
            from ..premixed import corpus_sets, snr_copy
            for t in set(a.of.split()) & set(corpus_sets(a.src, "pairs")):
                for snr in a.snrs.split():
                    print(f"{snr_copy(t, snr)}: skipped (the {t} set is pre-mixed: no noise to mix again)",
                          file=sys.stderr)
            return 0
        recipe = str(Path(a.recipe_dir).resolve())
        if a.cmd == "make":
            opts = {k: getattr(a, k) for k in OPTIONS}
            opts["peers"] = " ".join(available_peers(opts["peers"].split()))
            opts["experiments"] = a.experiments
            planner = Planner(opts, recipe, a.shared_conf, a.experiments)
            planner.plan_dir = a.out
            write_plan(planner.files(a.data_dir), a.out)
        else:
            extra = seeds_files(a.plan, recipe, a.shared_conf)
            for name, text in extra.items():
                path = Path(a.plan) / name
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(path)
    except (PlanError, ExperimentsError) as exc:
        print(f"seslib.recipe.plan: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
