"""The stages a run plans, pinned: ``run.sh --dry-run true`` on a recipe copy whose data dirs are
stubs (empty files where stages 0-1 would write) prints every stage's name, inputs, config,
outputs and command; they must equal the records in ``tests/golden/plan_dryrun.json``, written
from the code before the experiment plan moved from shell globals into plan files. Training
commands are compared by the config they train with (resolved: defaults, files, includes,
overrides), not by the files it is read from.

A change that alters what a default run trains, scores or stamps fails here; when the change is
meant, regenerate the records (``python tests/test_plan_equivalence.py --write``) and say in the
commit which stages an existing ``exp/`` reruns.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import ROOT, copy_recipe  # noqa: E402

GOLDEN = Path(__file__).parent / "golden" / "plan_dryrun.json"
SETS = {"mix": ("train", "valid", "test", "test_heldout", "test_real"),
        "data": ("test", "test_heldout", "test_real", "test_snr0", "test_snr5", "test_real_snr0", "test_real_snr5")}
#: option sets of egs/dns_wav2vec2/run.sh: the default paper run, the DNS set-up, and the options that change plans
CASES = {
    "mini default": [],
    "mini corpus ablation": ["--ablation", "base_synthetic base_realvoices base_synthetic_long base_long "
                                           "base_realvoices_long"],
    "mini options": ["--modes", "base distill_embed triplet", "--ablation", "base_static base_dynmix",
                     "--teacher-ablation", "random pretrain", "--teacher-features", "dumped",
                     "--train-set", "train.max_steps=5", "--pretraining", "pipeline_l1 finetune_l1_teacher",
                     "--analysis", "false", "--train-seeds", "", "--nproc", "2", "--peers", "rnnoise",
                     "--snr-systems", "base", "--sphinx-systems", "base", "--heldout-systems", "base triplet"],
    "dns default": ["--corpus", "dns", "--stage", "1"],
}


def stub_recipe(dst: Path) -> Path:
    """A recipe copy with empty stand-ins for what stages 0-1 write (sets are found by file names)."""
    rec = copy_recipe(dst)
    for corpus in ("mini", "dns"):
        for s in SETS["mix"]:
            for f in ("speech.scp", "noise.scp"):
                (rec / "data" / "local" / corpus / s).mkdir(parents=True, exist_ok=True)
                (rec / "data" / "local" / corpus / s / f).touch()
    for s in SETS["data"]:
        (rec / "data" / s).mkdir(parents=True)
        (rec / "data" / s / "wav.scp").write_text("u1 a.wav\nu2 b.wav\n")
        (rec / "data" / s / "noise1.scp").touch()
    return rec


def _config_files(path: str) -> bool:
    return path.endswith(".yaml") and path.startswith(("conf/train_", "exp/plan/"))


#: stamp config strings that left out a value at its default (before the plan moved to files)
_STAMP_DEFAULTS = {"5_score": {"asr": "", "decoding": "beam_size=1", "recognisers": "whisper"},
                   "2_dump_train": {"storage": "float32"}}


def _stamp_fields(text: str) -> dict:
    """``a=x y b=z`` -> {a: "x y", b: "z"} (a value runs to the next ``key=``)."""
    parts = re.split(r"(?:^| )([a-z_]+)=", text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _results_args(cmd: list) -> dict:
    """seslib.bin.results's arguments grouped by flag (their order within a flag kept), the note left out."""
    out, flag = {}, None
    for a in cmd[cmd.index("seslib.bin.results") + 1:]:
        if a.startswith("--") and not a.startswith("-- "):
            flag = a
            out.setdefault(flag, [])
        else:
            out[flag].append(a)
    out.pop("--note", None)
    return out


def normalise(rec: Path, r: dict, plan: str = "") -> dict:
    """A stage record in the terms that decide what a stage does: a training stage by its config
    resolved (``train_config``: defaults, files, includes and overrides merged) instead of the files
    it is read from; stamp strings with their defaults filled in; shell command lists with their
    whitespace folded; the results tool's arguments grouped by flag. Where configs live, and how a
    stamp string is spelled, may change; what is trained, scored and reported may not."""
    from seslib.config import load_config
    cmd = r["command"]
    if "seslib.bin.train" in cmd:
        i = cmd.index("--config")
        k = cmd.index("--set") if "--set" in cmd else len(cmd)
        cfg = json.dumps(load_config(rec / cmd[i + 1], cmd[k + 1:]))
        r["train_config"] = json.loads(cfg.replace(str(rec.resolve()), "<recipe>"))
        r["command"] = cmd[:i] + cmd[i + 2:k]
        r["config"] = None  # (its stamp string: the resolved config file is the stage's input now)
    for prefix, defaults in _STAMP_DEFAULTS.items():
        if r["name"].startswith(prefix):
            r["config"] = dict(defaults, **_stamp_fields(r["config"]))
    if cmd[:2] == ["bash", "-c"]:
        parts = (re.sub(r"\s+", " ", x).strip() for x in re.split(r"[;\n]", cmd[2]))
        r["command"] = ["bash", "-c", "; ".join(x for x in parts if x)]
    if "seslib.bin.results" in cmd:
        r["command"] = _results_args(cmd)
    for k in ("estimate_s", "estimate_from"):  # (what the stage would cost, not what it does)
        r.pop(k, None)
    if plan:  # a dry run's plan is written to a temporary dir: its records name that dir
        r = json.loads(json.dumps(r).replace(plan, "exp/plan"))
    r["inputs"] = [x for x in r["inputs"] if not _config_files(x)]
    r["title"] = re.sub(r" \((conf|exp/plan)/[^)]*\.yaml\)$", "", r["title"])
    return r


def dry_run(rec: Path, args, env) -> list[dict]:
    """The stage records of ``run.sh --dry-run true ARGS`` in ``rec``, with the recipe path as <recipe>."""
    r = subprocess.run(["./run.sh", "--dry-run", "true", *args], cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("dry run: ") and "this dry run's plan: " in last, last
    plan = last.split("this dry run's plan: ")[1]
    text = r.stdout.replace(str(rec.resolve()), "<recipe>").replace(str(rec), "<recipe>")
    return [normalise(rec, json.loads(line[len("dry-run: "):]), plan)
            for line in text.splitlines() if line.startswith("dry-run: ")]


def plans(tmp: Path, env) -> dict:
    return {case: dry_run(stub_recipe(tmp / str(i)), args, env) for i, (case, args) in enumerate(CASES.items())}


def _env():
    import os
    e = dict(os.environ)
    e["PATH"] = str(Path(sys.executable).parent) + os.pathsep + e["PATH"]
    e["SESLIB_ROOT"] = str(ROOT)
    return e


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plans")
    return tmp, plans(tmp, _env())


def test_default_plans_unchanged(planned):
    """Every stage of each case, in order, with its inputs, config, outputs and command."""
    want = json.loads(GOLDEN.read_text())
    got = planned[1]
    assert list(got) == list(want)
    for case in want:
        names = [r["name"] for r in got[case]]
        assert names == [r["name"] for r in want[case]], case
        differ = [(w["name"], {k: (g.get(k), w[k]) for k in w if g.get(k) != w[k]})
                  for g, w in zip(got[case], want[case]) if g != w]
        assert not differ, f"{case}: {len(differ)} stages differ; the first: {differ[0]}"


def test_dry_run_runs_nothing(planned):
    rec = planned[0] / "0"  # the default run's copy
    assert {r["state"] for r in planned[1]["mini default"]} == {"to run"}
    assert not (rec / "exp" / "stages").exists() or not any((rec / "exp" / "stages").iterdir())
    assert (rec / "RESULTS.md").read_bytes() == (ROOT / "egs" / "dns_wav2vec2" / "RESULTS.md").read_bytes()
    assert not list((rec / "exp").glob("*/best.pt")) and not (rec / "exp" / "analysis").exists()
    assert not (rec / "exp").exists()  # no plan, no lock: a dry run writes only in a temporary dir


if __name__ == "__main__":
    import difflib
    import tempfile
    if sys.argv[1:] not in (["--write"], ["--diff"]):
        sys.exit(f"usage: python tests/test_plan_equivalence.py --write | --diff   (rewrite {GOLDEN}, or print how "
                 "today's plans differ from it: nothing when they are the same)")
    with tempfile.TemporaryDirectory() as d:
        out = plans(Path(d), _env())
    if sys.argv[1] == "--diff":
        lines = lambda d: json.dumps(d, indent=1, sort_keys=True).splitlines()  # noqa: E731
        sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
            lines(json.loads(GOLDEN.read_text())), lines(out), str(GOLDEN), "today", lineterm=""))
        sys.exit(0)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(out, indent=0) + "\n")
    print(f"wrote {GOLDEN}: " + ", ".join(f"{k}: {len(v)} stages" for k, v in out.items()))
