"""Nothing lost, nothing mislabelled, before any training: a recipe never writes into a user's own
data dirs, names that resolve to nothing are errors, and a dry run writes nothing.

One small recipe (made by egs/TEMPLATE/setup.sh) with the user's own pair dirs; its own
local/data.sh prepares either speech + noise sources or pairs. Every test compares the user's
dirs byte for byte before and after.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, make_pairs, make_source_dir, new_recipe

OPTS = ["--modes", "base", "--pretraining", "", "--analysis", "false", "--train-seeds", "", "--peers", "",
        "--dnsmos-sets", "", "--nj", "1", "--num-rirs", "2"]
DATA_SH = """#!/usr/bin/env bash
set -euo pipefail
out=; corpus=; nj=1; seed=1
. utils/parse_options.sh
mkdir -p "$out"
for s in train valid test; do cp -r "$PREPARED/$s" "$out/$s"; done
"""


def _tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    rec = new_recipe(tmp)
    (rec / "local" / "data.sh").write_text(DATA_SH)
    rng = np.random.default_rng(3)
    own = {s: make_pairs(tmp / "own", s, n, rng, text=False) for s, n in (("train", 3), ("valid", 2), ("test", 2))}
    for s in own:
        (tmp / "raw" / s).mkdir(parents=True)
        shutil.copytree(make_source_dir(tmp / "raw" / s), tmp / "sources" / s)  # speech + noise sources
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
               SESLIB_ROOT=str(ROOT))
    own_opts = [a for s in ("train", "valid", "test") for a in (f"--{s}-dir", str(own[s]))]

    def run(*args, prepared=None):
        e = dict(env, PREPARED=str(prepared or tmp / "own" / "src"))
        return subprocess.run(["./run.sh", *OPTS, *args], cwd=rec, env=e, capture_output=True, text=True)
    return rec, run, own_opts, tmp


def _links_to_own(rec, run, own_opts):
    for d in ("data", "exp"):
        shutil.rmtree(rec / d, ignore_errors=True)
    r = run(*own_opts, "--stage", "0", "--stop-stage", "0")  # links data/{train,valid,test}, trains nothing
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (rec / "data" / "train").is_symlink()


@pytest.mark.parametrize("shape", ["sources", "pairs"])
def test_stages_0_1_never_write_through_a_link_to_own_data(toy, shape):
    rec, run, own_opts, tmp = toy
    _links_to_own(rec, run, own_opts)
    user = _tree(tmp / "own")
    r = run("--stage", "0", "--stop-stage", "1", prepared=tmp / "sources" if shape == "sources" else None)
    # was: sources mixed through the link (every file of the user's dirs rewritten or deleted);
    # pairs: NotADirectoryError, data/.train.tmp left behind
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert _tree(tmp / "own") == user
    assert "(an earlier run's own data dir): link removed" in r.stdout
    for s in ("train", "valid", "test"):
        assert (rec / "data" / s).is_dir() and not (rec / "data" / s).is_symlink()
        assert (rec / "data" / s / "spk1.scp").is_file()
    assert not list((rec / "data").glob(".*.tmp"))


def test_names_that_resolve_to_nothing_are_errors(toy):
    rec, run, own_opts, tmp = toy
    _links_to_own(rec, run, own_opts)
    user, plan = _tree(tmp / "own"), _tree(rec / "exp" / "plan")
    r = run(*own_opts, "--stage", "3", "--train-conf-tag", "nosuchtag")  # was: trained on the code's defaults
    assert r.returncode == 1 and "--train-conf-tag nosuchtag: no conf/train_common_nosuchtag.yaml" in r.stderr
    assert "(and the untagged train_common.yaml)" in r.stderr
    r = run(*own_opts, "--stage", "3", "--modes", "base nosuchmode")
    assert r.returncode == 1 and "system 'nosuchmode' has no config" in r.stderr and "distill_embed" in r.stderr
    for stages in (["--stage", "9", "--stop-stage", "9"], ["--stop-stage", "8"]):  # was: nothing, exit 0
        r = run(*own_opts, *stages)
        assert r.returncode == 1 and "the stages are 0-7" in r.stderr
    assert _tree(tmp / "own") == user and _tree(rec / "exp" / "plan") == plan
    assert not list((rec / "exp").glob("*/best.pt"))


def test_dry_run_writes_nothing_and_estimates(toy):
    rec, run, own_opts, tmp = toy
    _links_to_own(rec, run, own_opts)
    user, exp = _tree(tmp / "own"), _tree(rec / "exp")
    r = run(*own_opts, "--dry-run", "true", "--modes", "base distill_embed")  # was: replaced exp/plan
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert _tree(rec / "exp") == exp and _tree(tmp / "own") == user
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("dry run: ") and "stages to run" in last and "by measured times" in last
    plan = Path(last.split("this dry run's plan: ")[1])
    assert (plan / "train" / "distill_embed.yaml").is_file() and not str(plan).startswith(str(rec))


def test_help_and_template_say_what_is_true(toy):
    rec, run, *_ = toy
    r = run("--help")
    assert "spk2utt" in r.stdout + r.stderr and "utt2num_samples" in r.stdout + r.stderr
    comment = "".join(line for line in (ROOT / "egs" / "TEMPLATE" / "conf" / "train_common.yaml").read_text().splitlines(True)
                      if line.startswith("#"))
    for name in re.findall(r"((?:egs/[\w.-]+/)?conf/[\w<>/.-]+\.yaml)", comment):
        if "<" not in name:
            assert (ROOT / "egs" / "TEMPLATE" / name).exists() or (ROOT / name).exists(), name
    assert "conf/modes/<system>.yaml" in comment


def test_readme_python_commands_use_the_environment():
    """README's `python -m` examples run as written: from the environment tools/install.sh makes."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    lines = [x for b in blocks for x in b.splitlines() if re.match(r"\s*python3? -m ", x)]
    assert not lines, f"README runs python outside tools/venv: {lines[:2]}"
