"""The run's plan (seslib.recipe.plan): systems and their order, teachers, configs, where each
system is enhanced and scored, the results rows, the seed spread; and the errors that name the
option or file."""
import yaml
import numpy as np
import pytest

from conftest import ROOT, write_scores


def _tsv(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if not line.startswith("#")]


def make_plan(rec, *args, sets=("test",), matrix=None, capsys=None):
    """exp/plan of a recipe dir ``rec`` (configs in rec/conf, tag x) as {file: text}; the error
    message instead when planning fails. ``sets``: the test sets found in rec/data."""
    from seslib.recipe import plan
    for s in sets:
        (rec / "data" / s).mkdir(parents=True, exist_ok=True)
        (rec / "data" / s / "wav.scp").write_text("u1 a.wav\n")
    extra = []
    if matrix is not None:
        (rec / "matrix.yaml").write_text(yaml.safe_dump(matrix))
        extra = ["--experiments", str(rec / "matrix.yaml")]
    out = rec / "exp" / "plan"
    rc = plan.main(["make", "--out", str(out), "--recipe-dir", str(rec), "--data-dir", str(rec / "data"),
                    "--shared-conf", str(ROOT / "conf"), "--conf-tag", "x", "--corpus", "mini", "--pretraining", "",
                    "--analysis", "false", "--test-snrs", "0", "--snr-variants-of", "test test_real", *extra, *args])
    if rc:
        return capsys.readouterr().err if capsys else "failed"
    return {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}


def _conf(rec, **systems):
    (rec / "conf").mkdir(parents=True, exist_ok=True)
    common = rec / "conf" / "train_common_x.yaml"
    if not common.is_file():  # (a recipe has its shared layer; a plan without one is refused)
        common.write_text("train: {}\n")
    for name, text in systems.items():
        (rec / "conf" / f"train_{name}_x.yaml").write_text(text)


def _flag_values(args: list[str], flag: str, k: int = 1) -> list[str]:
    """The k-th value after each occurrence of ``flag``."""
    return [args[i + k] for i, a in enumerate(args) if a == flag]


def test_plan_systems_teachers_and_rows(tmp_path):
    rec = tmp_path / "r"
    _conf(rec, a="mode: triplet\ndata: {dynamic_mixing: true}\naugment: {reverb: {prob: 0.5, rir_scp: r/rir.scp}}\n",
          b="mode: base\n", base="", c="mode: distill_embed\ndata: {dynamic_mixing: false}\n")
    f = make_plan(rec, "--modes", "a c", "--ablation", "b", "--teacher-ablation", "random pretrain",
                  "--teacher-ablation-modes", "a c", "--teacher-check", "true")
    # the ablation brings its reference, base; each teacher of the teacher ablation trains each of its modes
    order = [r[0] for r in _tsv(f["stage3.tsv"])]
    assert order == "a c b base a_teacher-random c_teacher-random a_teacher-pretrain c_teacher-pretrain".split()
    assert [r[:2] for r in _tsv(f["stage2_checks.tsv"])] == [["whisper-tiny.en", "whisper-tiny.en"],
                                                            ["pretrain", "pretrain"]]  # a random twin is the control
    pre = f"{rec}/exp/teacher/teacher"
    assert [r[0] for r in _tsv(f["stage2_dumps.tsv"])] == ["whisper-tiny.en", "random", "pretrain"]  # c: static mixtures
    assert _tsv(f["stage2_dumps.tsv"])[1] == ["random", "random", "random:whisper-tiny.en",
                                             "dump/random_whisper-tiny.en/train", "float32", "clean_last"]
    assert f["stage2_pretrain"] == "conf/teacher_mini.yaml\n"
    rows3 = {r[0]: r for r in _tsv(f["stage3.tsv"])}
    assert rows3["b"] == ["b", f"{rec}/exp/plan/train/b.yaml", "data/train data/valid"]  # (in the plan dir given)
    # dynamic mixing with reverberation reads the RIR list: its dir is a stage input; online teacher
    assert rows3["a"][2] == "data/train data/valid r"
    a = yaml.safe_load(f["train/a.yaml"])
    assert a["teacher"] == {"spec": "whisper-tiny.en", "features": "online", "dump_dir": None}
    # the offline teacher's dir is an input before stage 2 makes it, so the stamp does not change after
    assert rows3["c_teacher-pretrain"][2] == f"data/train data/valid dump/exp_teacher_teacher/train {pre}"
    c = yaml.safe_load(f["train/c_teacher-pretrain.yaml"])
    assert c["teacher"] == {"spec": pre, "features": "dumped", "dump_dir": "dump/exp_teacher_teacher/train"}
    assert c["mode"] == "distill_embed" and yaml.safe_load(f["train/b.yaml"])["teacher"]["spec"] is None
    args = f["stage7.args"].splitlines()
    assert args[args.index("--teacher-row"):][:4] == ["--teacher-row", "a", "exp/a", "exp/a/best.pt"]  # label: the name
    assert _flag_values(args, "--teacher-row", 2) == ["exp/a", "exp/a_teacher-random", "exp/a_teacher-pretrain",
                                                      "exp/c", "exp/c_teacher-random", "exp/c_teacher-pretrain"]
    assert _flag_values(args, "--ablation-row", 2) == ["exp/noisy", "exp/b", "exp/base"]
    assert _flag_values(args, "--teacher-check") == ["exp/teacher_check/whisper-tiny.en.json"]
    assert "exp/teacher_check/pretrain.json" in args and _flag_values(args, "--teacher-dir") == ["exp/teacher"]


def test_corpus_ablation_table_and_where_systems_are_scored(tmp_path):
    rec = tmp_path / "r"
    _conf(rec, b="mode: base\n", base_synthetic="mode: base\n", base_long="mode: base\n")
    sets = ("test", "test_heldout", "test_real", "test_real_snr0", "test_snr0")
    f = make_plan(rec, "--modes", "base", "--ablation", "b base_synthetic base_long", sets=sets)
    args = f["stage7.args"].splitlines()
    # the corpus ablation gets its own table (with base and base_long); the rest stays in the data ablation
    assert _flag_values(args, "--ablation-row", 2) == ["exp/noisy", "exp/b", "exp/base"]
    assert _flag_values(args, "--corpus-row", 2) == ["exp/noisy", "exp/base_synthetic", "exp/base", "exp/base_long"]
    assert f["test_sets"].split() == ["test", "test_heldout", "test_real", "test_snr0", "test_real_snr0"]
    assert "--corpus-row" not in make_plan(rec, "--modes", "base", "--ablation", "b base_long")["stage7.args"]
    # the held-out and real-recording sets: the held-out systems; the main set's SNR copies: the SNR systems
    f = make_plan(rec, "--modes", "base", "--ablation", "b base_synthetic", "--snr-systems", "base", sets=sets)
    by_set = {}
    for s, row, *_ in _tsv(f["stage4.tsv"]):
        by_set.setdefault(s, []).append(row)
    assert by_set == {"test": ["base", "b", "base_synthetic"], "test_heldout": ["base", "b", "base_synthetic"],
                      "test_real": ["base", "b", "base_synthetic"], "test_real_snr0": ["base", "b", "base_synthetic"],
                      "test_snr0": ["base"]}
    refs = {(s, row) for s, row, *_ in _tsv(f["stage5.tsv"]) if row in ("clean", "noisy")}
    assert ("test_real", "clean") in refs and ("test_real_snr0", "clean") not in refs and ("test_snr0", "noisy") in refs


def test_features_online_dump_nothing(tmp_path):
    rec = tmp_path / "r"
    _conf(rec, c="mode: distill_embed\ndata: {dynamic_mixing: false}\n")
    f = make_plan(rec, "--modes", "c", "--teacher-ablation", "random", "--teacher-ablation-modes", "c",
                  "--teacher-features", "online")
    assert _tsv(f["stage2_dumps.tsv"]) == [] and _tsv(f["stage2_checks.tsv"]) == [] and "stage2_pretrain" not in f
    assert "--teacher-dir" not in f["stage7.args"] and "--teacher-check" not in f["stage7.args"]


@pytest.mark.parametrize("args, message", [
    (["--modes", "b", "--teacher-ablation", "random", "--teacher-ablation-modes", "b"], "uses no teacher"),
    (["--modes", "nope"], "train_nope_x.yaml"),
    (["--modes", "d"], "train_d_x.yaml"),
    (["--modes", "b", "--teacher-features", "sometimes"], "--teacher-features"),
    (["--modes", "b", "--feature-storage", "tiny"], "--feature-storage"),
    (["--modes", "b", "--peers", "rnnoise krisp"], "unknown peer(s) krisp"),
    (["--modes", "b", "--train-set", "train.max_step=3"], "unknown config key 'train.max_step'"),
    (["--modes", "b", "--train-set", "train.batch_size=two"], "train.batch_size"),
    (["--modes", "distill_embed", "--teacher", "random"], "--teacher random names no teacher"),
])
def test_plan_refuses_bad_plans(tmp_path, capsys, args, message):
    rec = tmp_path / "r"
    _conf(rec, b="mode: base\n", d="mode: nope\n")
    err = make_plan(rec, *args, capsys=capsys)
    assert isinstance(err, str) and message in err
    assert not (rec / "exp" / "plan").exists()  # nothing half-written


def test_a_failed_plan_keeps_the_previous_one(tmp_path, capsys):
    rec = tmp_path / "r"
    _conf(rec, b="mode: base\n")
    first = make_plan(rec, "--modes", "b")
    assert isinstance(make_plan(rec, "--modes", "b nope", capsys=capsys), str)
    assert {p.name for p in (rec / "exp" / "plan").iterdir()} >= {"stage3.tsv", "train"}
    assert (rec / "exp" / "plan" / "stage3.tsv").read_text() == first["stage3.tsv"]


def test_init_order_tables_and_recognisers(tmp_path, capsys, monkeypatch):
    rec = tmp_path / "r"
    _conf(rec, enc="mode: pretrain_enc_l1\n",
          dec="mode: pretrain_dec_frozen\ninit: [{checkpoint: exp/enc/best.pt, parts: [encoder]}]\n",
          ft="mode: base\ninit: [{checkpoint: exp/dec/best.pt, parts: [encoder]}]\n",
          loop="mode: base\ninit: [{checkpoint: exp/loop/best.pt, parts: [encoder]}]\n",
          asm="mode: base\ninit: [{checkpoint: exp/dec/best.pt, parts: [encoder]}]\n")
    matrix = {"table2": ["dec", "asm"], "table3": ["ft", "loop"], "assembled": ["asm"]}
    f = make_plan(rec, "--modes", "", "--pretraining", "ft", matrix=matrix, sets=("test", "test_heldout", "test_snr0"))
    rows3 = {r[0]: r for r in _tsv(f["stage3.tsv"])}
    assert list(rows3) == ["enc", "dec", "ft"]
    assert "exp/enc/best.pt" in rows3["dec"][2]  # the stage of dec reads enc's checkpoint
    args = f["stage7.args"].splitlines()
    assert _flag_values(args, "--pretrain-row", 2) == ["exp/dec"] and _flag_values(args, "--finetune-row", 2) == ["exp/ft"]
    assert _flag_values(args, "--trained") == ["enc"]  # trained, in no table: its time still counts
    score = {(r[0], r[1]): r[3:] for r in _tsv(f["stage5.tsv"])}
    assert score["test", "ft"][0] == "whisper sphinx_per" and score["test", "clean"][0] == "whisper sphinx"
    assert score["test_heldout", "clean"][0] == "whisper"  # the second recogniser: on the main set only
    assert score["test", "ft"][1:] == ["false", "asr= decoding=beam_size=1, no_repeat_ngram_size=3 recognisers=whisper "
                                              "sphinx_per"]  # plan's own default: no DNSMOS
    # DNSMOS on the sets named, every row but the seed spread; its models enter the stamp, so a change rescores
    f = make_plan(rec, "--modes", "", "--pretraining", "ft", "--dnsmos-sets", "test test_heldout", matrix=matrix,
                  sets=("test", "test_heldout", "test_snr0"))
    score = {(r[0], r[1]): r[3:] for r in _tsv(f["stage5.tsv"])}
    on = sorted(k for k, v in score.items() if v[1] == "true")
    assert on == [("test", "clean"), ("test", "dec"), ("test", "ft"), ("test", "noisy"), ("test_heldout", "clean"),
                  ("test_heldout", "noisy")]  # (ft is not a held-out system; test_snr0 not named)
    assert all(score[k][2].endswith(" dnsmos=p835:sig_bak_ovr.onnx+p808:model_v8.onnx") for k in on)
    assert not any("dnsmos" in v[2] for k, v in score.items() if k not in on)
    # a system the matrix calls assembled must not train
    err = make_plan(rec, "--modes", "", "--pretraining", "asm", matrix=matrix, capsys=capsys)
    assert "system 'asm' is assembled" in err
    # a pre-training system in no table is an error, not a guess
    err = make_plan(rec, "--modes", "", "--pretraining", "ft", matrix={"table2": ["dec"]}, capsys=capsys)
    assert "system 'ft' (--pretraining) is in neither table2 nor table3" in err
    err = make_plan(rec, "--modes", "", "--pretraining", "loop", matrix=matrix, capsys=capsys)
    assert "in a loop: loop -> loop" in err


def test_layers_common_mode_and_recipe_override(tmp_path):
    """A paper system reads the recipe's common file, then conf/modes/<S>.yaml, then the recipe's own file."""
    rec = tmp_path / "r"
    _conf(rec, common="train: {max_steps: 7, batch_size: 3}\n", student="train: {max_steps: 11}\n")
    f = make_plan(rec, "--modes", "distill_embed", "--pretraining", "", "--analysis", "true", "--train-seeds", "")
    de, st = yaml.safe_load(f["train/distill_embed.yaml"]), yaml.safe_load(f["train/student.yaml"])
    assert de["mode"] == "distill_embed" and de["mode_options"]["weight"] == 1.0 and de["train"]["max_steps"] == 7
    assert st["mode"] == "distill_student" and st["optim"]["lr"] == 5e-4 and st["train"]["max_steps"] == 11
    assert st["train"]["batch_size"] == 3
    assert f["train/student.yaml"].startswith("# student: written by seslib.recipe.plan from ")
    # the decoder fed the student's embeddings comes after the student and the decoder it copies
    order = [r[0] for r in _tsv(f["stage3.tsv"])]
    assert order.index("resynth_student") > max(order.index("student"), order.index("pretrain_dec_teacher"))
    rs = yaml.safe_load(f["train/resynth_student.yaml"])
    assert rs["teacher"]["spec"] == "exp/student/best.pt"  # the fixed teacher is kept, and is a stage input
    assert "exp/student/best.pt" in {r[0]: r for r in _tsv(f["stage3.tsv"])}["resynth_student"][2]
    assert [r[3] for r in _tsv(f["stage4.tsv"]) if r[1] == "resynth_student"] == ["spk1.scp"]
    lags = f["stage6_lags.args"].splitlines()
    assert "student=exp/student/best.pt" in lags and "--reference" in lags


def test_seed_spread_from_the_scores(tmp_path, capsys):
    from seslib.recipe import plan
    rec = tmp_path / "r"
    _conf(rec, base="", good="mode: base\n", same="mode: base\n")
    rng = np.random.default_rng(0)
    base = rng.normal(2, 3, 100)
    write_scores(rec / "exp" / "base" / "score_test", base)
    write_scores(rec / "exp" / "good" / "score_test", base + 0.5 + rng.normal(0, 0.2, 100))
    noise = rng.normal(0, 0.2, 50)
    write_scores(rec / "exp" / "same" / "score_test", base + np.concatenate([noise, -noise]))
    f = make_plan(rec, "--modes", "base good same", "--train-seeds", "2 3", "--dnsmos-sets", "test",
                  "--max-seed-systems", "2")
    assert {r[4] for r in _tsv(f["stage5.tsv"])} == {"true"}  # DNSMOS for the main rows, not for the spread:
    runs = [r[0] for r in _tsv(f["stage6_train.tsv"])]
    assert runs == ["base_seed2", "base_seed3", "good_seed2", "good_seed3"]  # 'same' does not differ
    assert yaml.safe_load(f["train/good_seed3.yaml"])["train"]["seed"] == 3
    assert [r[3:5] for r in _tsv(f["stage6_score.tsv"])] == [["none", "false"]] * 4  # of PESQ / STOI / SI-SDR
    assert f["stage7_seeds.args"].splitlines()[:3] == ["--seed-row", "Base", "exp/base exp/base_seed2 exp/base_seed3"]
    # stage 6 chooses again once stage 5 has scored: 'same' now differs too
    (rec / "exp" / "same" / "score_test" / "scores.tsv").unlink()
    (rec / "exp" / "same" / "score_test").rmdir()
    write_scores(rec / "exp" / "same" / "score_test", base - 1.0 + rng.normal(0, 0.2, 100))
    assert plan.main(["seeds", "--plan", str(rec / "exp" / "plan"), "--recipe-dir", str(rec),
                      "--shared-conf", str(ROOT / "conf")]) == 0
    runs = [r[0] for r in _tsv((rec / "exp" / "plan" / "stage6_train.tsv").read_text())]
    assert runs == ["base_seed2", "base_seed3", "same_seed2", "same_seed3", "good_seed2", "good_seed3"]
    f = make_plan(rec, "--modes", "base good same", "--train-seeds", "2 3", "--seed-systems", "same")
    # Base, the spread's reference, comes with any list
    assert [r[0] for r in _tsv(f["stage6_train.tsv"])] == ["base_seed2", "base_seed3", "same_seed2", "same_seed3"]
    err = make_plan(rec, "--modes", "base good same", "--train-seeds", "2 3", "--seed-systems", "nope", capsys=capsys)
    assert "not trained by this run" in err


def test_plan_dumps_the_streams_its_systems_read(tmp_path):
    """Stage 2 dumps for each teacher only the streams of the systems that read dumped features."""
    rec = tmp_path / "r"
    _conf(rec)
    f = make_plan(rec, "--modes", "base distill_embed triplet_ws", "--teacher-features", "dumped")
    assert _tsv(f["stage2_dumps.tsv"])[0][-1] == "clean_all clean_last noisy_all"
    f = make_plan(rec, "--modes", "base distill_embed", "--teacher-features", "dumped")
    assert _tsv(f["stage2_dumps.tsv"])[0][-1] == "clean_last"


def test_stage1_mixing_plan(tmp_path, capsys):
    """Seeds by position in the corpus; SNR copies reuse their set's seed; hours need a segment length."""
    from seslib.recipe import plan
    src = tmp_path / "src"
    for s in ("train", "valid", "test", "test_heldout", "test_real"):
        (src / s).mkdir(parents=True)
        (src / s / "speech.scp").touch()
        (src / s / "noise.scp").touch()
    assert plan.main(["mixes", "--src", str(src), "--seed", "2", "--train-hours", "1", "--valid-hours", "0.5",
                      "--segment-seconds", "10", "--of", "test test_real", "--snrs", "5"]) == 0
    rows = [r.split("\t") for r in capsys.readouterr().out.splitlines()]
    assert rows == [["mix", "train", "21", "-5 5", "360"], ["mix", "valid", "22", "-5 5", "180"],
                    ["mix", "test", "23", "-5 -5", "0"], ["mix", "test_heldout", "24", "-5 -5", "0"],
                    ["mix", "test_real", "25", "-5 -5", "0"], ["copy", "test", "23", "5 5", "test_snr5"],
                    ["copy", "test_real", "25", "5 5", "test_real_snr5"]]
    assert plan.main(["mixes", "--src", str(src), "--train-hours", "1"]) == 1
    assert "--train-hours and --valid-hours need --segment-seconds" in capsys.readouterr().err


def test_the_paper_matrix_names_every_system_it_tables():
    """Every system of conf/experiments/paper.yaml has a config in conf/modes and a label where it is tabled."""
    from seslib.recipe.experiments import load_experiments
    x = load_experiments(ROOT / "conf" / "experiments" / "paper.yaml")
    named = set(x.table1 + x.table2 + x.table3 + x.pretraining + x.assembled + x.analysis)
    assert all((ROOT / "conf" / "modes" / f"{s}.yaml").is_file() for s in named)
    assert all(s in x.labels for s in x.table1 + x.table2 + x.table3)
    assert set(x.heldout_systems + x.snr_systems + x.sphinx_systems) <= named
    for s in x.assembled:
        assert yaml.safe_load((ROOT / "conf" / "modes" / f"{s}.yaml").read_text())["train"]["max_steps"] == 0


def test_auto_is_the_default_subset_and_all_every_system(tmp_path):
    """--modes / --pretraining auto train the matrix's default_* lists, all the whole table, names themselves;
    a default list naming a system outside its table is refused with the file and the key."""
    from seslib.recipe.experiments import ExperimentsError, load_experiments
    m = tmp_path / "m.yaml"
    m.write_text("table1: [base, concat, triplet]\ntable2: [pretrain_dec_frozen_l1]\n"
                 "pretraining: [pretrain_dec_frozen_l1]\ndefault_modes: [base, triplet]\n")
    x = load_experiments(m)
    assert x.chosen("auto", "table1") == ["base", "triplet"]
    assert x.chosen("all", "table1") == ["base", "concat", "triplet"]
    assert x.chosen("concat", "table1") == ["concat"]
    assert x.chosen("auto concat base", "table1") == ["base", "triplet", "concat"]  # the default and one more
    assert x.chosen("", "table1") == []
    assert x.chosen("auto", "pretraining") == ["pretrain_dec_frozen_l1"]  # no default list: the whole one
    m.write_text("table1: [base]\ndefault_modes: [base, concat]\n")
    with pytest.raises(ExperimentsError, match=r"m.yaml: default_modes names systems that table1 lacks: concat"):
        load_experiments(m)
    paper = load_experiments(ROOT / "conf" / "experiments" / "paper.yaml")
    assert len(paper.chosen("all", "table1")) == 10 and "concat" not in paper.chosen("auto", "table1")
