"""Porting to a new corpus: egs/TEMPLATE/setup.sh, pre-mixed pair dirs through every stage,
the VoiceBank-DEMAND layout, and bring-your-own data dirs."""
import shutil
import sys
import subprocess

import numpy as np
import pytest
import soxr

from conftest import ROOT, speechlike, write_wav
from seslib.data import DataDirError, read_kv, validate_data_dir
from seslib.premixed import import_pair_dir

# the budget of a recipe made from the template, at test size (conf/train_common.yaml is the user's)
TINY_COMMON = """model: {channels: [4, 6, 8, 8, 8]}
train: {batch_size: 2, crop_seconds: 0.5, max_steps: 2, log_every: 1, valid_every: 2, ckpt_every: 2,
        valid_max_utts: 2, threads: 1}
data: {dynamic_mixing: false}
"""
SENTENCES = ["please call stella", "ask her to bring these things", "six spoons of fresh snow peas",
             "we also need a small plastic snake"]


def _pair(rng, seconds=1.5, sr=16000):
    clean = speechlike(rng, seconds)
    noisy = clean + (0.03 * rng.standard_normal(len(clean))).astype(np.float32)
    if sr != 16000:
        clean, noisy = (soxr.resample(x, 16000, sr).astype(np.float32) for x in (clean, noisy))
    return noisy, clean


def make_vbd_tree(root, rng=None):
    """VoiceBank-DEMAND's layout at 48 kHz: 4 training speakers (p226 and p287 among them), the 2 test
    speakers, 2 utterances each, transcripts as one-line .txt files."""
    rng = rng or np.random.default_rng(0)
    for kind, spks, tag in (("trainset_28spk", ("p226", "p228", "p287", "p301"), "trainset_28spk"),
                            ("testset", ("p232", "p257"), "testset")):
        for spk in spks:
            for k in (1, 2):
                utt = f"{spk}_{k:03d}"
                noisy, clean = _pair(rng, sr=48000)
                write_wav(root / f"noisy_{kind}_wav" / f"{utt}.wav", noisy, sr=48000)
                write_wav(root / f"clean_{kind}_wav" / f"{utt}.wav", clean, sr=48000)
                (root / f"{tag}_txt").mkdir(parents=True, exist_ok=True)
                (root / f"{tag}_txt" / f"{utt}.txt").write_text(SENTENCES[(k + len(spk)) % 4].capitalize() + ".\n")
    return root


def _egs_copy(tmp_path):
    """egs/TEMPLATE and egs/vbd_wav2vec2 copied (links kept) beside a link to the repo's utils."""
    egs = tmp_path / "egs"
    for name in ("TEMPLATE", "vbd_wav2vec2"):
        shutil.copytree(ROOT / "egs" / name, egs / name, symlinks=True)
    (tmp_path / "utils").symlink_to(ROOT / "utils")
    return egs


def test_import_pair_dir_checks_pairs(tmp_path):
    rng = np.random.default_rng(1)
    src = tmp_path / "pairs"
    wav, spk1 = {}, {}
    for u in ("a_1", "a_2"):
        noisy, clean = _pair(rng, sr=48000)
        write_wav(tmp_path / "w" / f"{u}_n.wav", noisy, sr=48000)
        write_wav(tmp_path / "w" / f"{u}_c.wav", clean, sr=48000)
        wav[u], spk1[u] = str(tmp_path / "w" / f"{u}_n.wav"), str(tmp_path / "w" / f"{u}_c.wav")
    src.mkdir()
    (src / "wav.scp").write_text("".join(f"{u} {p}\n" for u, p in wav.items()))
    (src / "spk1.scp").write_text("".join(f"{u} {p}\n" for u, p in spk1.items()))
    (src / "text").write_text("a_1 hello\na_2 world\n")
    assert import_pair_dir(src, tmp_path / "out") == 2
    out = tmp_path / "out"
    assert read_kv(out / "utt2num_samples") == {"a_1": "24000", "a_2": "24000"}  # 1.5 s at 16 kHz
    assert read_kv(out / "utt2spk") == {"a_1": "a_1", "a_2": "a_2"} and (out / "text").is_file()
    assert validate_data_dir(out, "header", ["spk1.scp"]) == []
    # a pair that is not sample-aligned is named, and nothing is written
    write_wav(tmp_path / "w" / "a_2_c.wav", speechlike(rng, 1.0), sr=16000)
    with pytest.raises(DataDirError, match="utterance 'a_2'.*sample-aligned"):
        import_pair_dir(src, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()
    (src / "spk1.scp").write_text(f"a_1 {spk1['a_1']}\n")
    with pytest.raises(DataDirError, match=r"no clean speech: \['a_2'\]"):
        import_pair_dir(src, tmp_path / "out3")


def test_setup_makes_a_recipe_beside_the_template(tmp_path, env):
    egs = _egs_copy(tmp_path)
    setup = egs / "TEMPLATE" / "setup.sh"
    r = subprocess.run([str(setup), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "local/data.sh" in r.stdout
    r = subprocess.run([str(setup), str(egs / "toy_se")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rec = egs / "toy_se"
    # shared parts are links into the template; the recipe's own parts are files
    for link in ("se.sh", "path.sh", "cmd.sh", "utils"):
        assert (rec / link).is_symlink(), link
    assert (rec / "se.sh").resolve() == (egs / "TEMPLATE" / "se.sh").resolve()
    for own in ("run.sh", "db.sh", "local/data.sh", "conf/train_common.yaml", "conf/train_student.yaml"):
        assert (rec / own).is_file() and not (rec / own).is_symlink(), own
    assert "--corpus toy" in (rec / "run.sh").read_text()
    # the stub says what to write and fails until it is replaced
    r = subprocess.run(["./run.sh", "--stage", "0", "--stop-stage", "0"], cwd=rec, env=env, capture_output=True,
                       text=True)
    assert r.returncode != 0 and "write" in r.stdout + r.stderr
    for bad in (egs / "toy_se", tmp_path / "elsewhere"):  # exists; not beside the template
        r = subprocess.run([str(setup), str(bad)], capture_output=True, text=True)
        assert r.returncode == 1 and r.stderr, bad
    assert not (tmp_path / "elsewhere").exists()


def test_vbd_layout_prep(tmp_path, env):
    egs = _egs_copy(tmp_path)
    rec = egs / "vbd_wav2vec2"
    root = make_vbd_tree(tmp_path / "VBD")
    e = dict(env, VBD_ROOT=str(tmp_path / "nowhere"))
    r = subprocess.run(["./run.sh", "--stage", "0", "--stop-stage", "1"], cwd=rec, env=e, capture_output=True, text=True)
    assert r.returncode != 0 and "set VBD_ROOT in db.sh" in r.stdout + r.stderr
    e = dict(env, VBD_ROOT=str(root))
    r = subprocess.run(["./run.sh", "--stage", "0", "--stop-stage", "1", "--num-rirs", "2", "--test-snrs", "0"], cwd=rec, env=e,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "test_snr0: skipped (the test set is pre-mixed" in r.stderr
    spk = {s: set(read_kv(rec / "data" / s / "utt2spk").values()) for s in ("train", "valid", "test")}
    assert spk == {"train": {"p228", "p301"}, "valid": {"p226", "p287"}, "test": {"p232", "p257"}}
    for s in ("train", "valid", "test"):
        assert validate_data_dir(rec / "data" / s, "header", ["spk1.scp", "text", "utt2num_samples"]) == []
        assert set(read_kv(rec / "data" / s / "utt2num_samples").values()) == {"24000"}  # 48 kHz read at 16 kHz
        assert not (rec / "data" / s / "noise1.scp").exists()
    assert read_kv(rec / "data" / "test" / "text")["p232_001"] in {x.capitalize() + "." for x in SENTENCES}


def test_template_recipe_end_to_end_on_premixed_pairs(tmp_path, env, tiny_teacher_dir):
    """A recipe made by setup.sh, whose local/data.sh writes pair dirs (no noise), through stages 0-7:
    import, teacher features dumped from pairs, training (Base and Embed. distillation), enhancement,
    scoring, results. Then the same data given as own dirs to a second recipe, stages 2-3."""
    egs = _egs_copy(tmp_path)
    subprocess.run([str(egs / "TEMPLATE" / "setup.sh"), "--corpus", "toy", str(egs / "toy_se")], check=True,
                   capture_output=True)
    rec = egs / "toy_se"
    (rec / "conf" / "train_common.yaml").write_text(TINY_COMMON)
    root = make_vbd_tree(tmp_path / "VBD", np.random.default_rng(2))
    (rec / "local" / "data.sh").write_text(f"""#!/usr/bin/env bash
set -euo pipefail
corpus=; out=; nj=1; seed=1
. utils/parse_options.sh
python {ROOT}/egs/vbd_wav2vec2/local/prep_vbd.py --root {root} --out "$out" --valid-speakers "p226 p287"
""")
    opts = ["--modes", "base distill_embed", "--teacher", str(tiny_teacher_dir), "--pretraining", "", "--analysis",
            "false", "--train-seeds", "", "--peers", "", "--dnsmos-sets", "", "--num-rirs", "2", "--nj", "2"]
    r = subprocess.run(["./run.sh", *opts], cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for s in ("0_sources", "1_import_train", "1_import_valid", "1_import_test", "3_train_base",
              "3_train_distill_embed", "4_enhance_base_test", "5_score_noisy_test", "5_score_clean_test",
              "5_score_distill_embed_test"):
        assert (rec / "exp" / "stages" / f"{s}.done").is_file(), s
    assert "features dumped" in (rec / "exp" / "distill_embed" / "train.log").read_text()
    text = (rec / "RESULTS.md").read_text()
    assert "| Base |" in text and "| Distillation Embed. |" in text and "| Noisy input |" in text
    assert "pre-mixed" in text.split("\n")[0]
    # bring your own dirs: the imported data dirs given to a second recipe; stages 0-1 skipped
    subprocess.run([str(egs / "TEMPLATE" / "setup.sh"), str(egs / "own_se")], check=True, capture_output=True)
    own = egs / "own_se"
    (own / "conf" / "train_common.yaml").write_text(TINY_COMMON)
    dirs = [a for s in ("train", "valid", "test") for a in (f"--{s}-dir", str(rec / "data" / s))]
    r = subprocess.run(["./run.sh", *dirs, "--stop-stage", "3", *opts], cwd=own, env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "stages 0-1 skipped" in r.stdout and (own / "exp" / "base" / "best.pt").is_file()
    assert (own / "data" / "train").resolve() == (rec / "data" / "train").resolve()
    assert not (own / "exp" / "stages" / "0_sources.done").exists()
    bad = dirs[:-1] + [str(tmp_path)]  # not a data dir: rejected before anything runs
    r = subprocess.run(["./run.sh", *bad, *opts], cwd=own, env=env, capture_output=True, text=True)
    assert r.returncode == 1 and f"--test-dir {tmp_path} is not a valid data dir" in r.stderr


def test_vbd_prep_speaker_split_options(tmp_path, env):
    root = make_vbd_tree(tmp_path / "VBD")
    prep = [sys.executable, str(ROOT / "egs" / "vbd_wav2vec2" / "local" / "prep_vbd.py"), "--root", str(root)]
    r = subprocess.run(prep + ["--out", str(tmp_path / "o"), "--valid-speakers", "p226,p228"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert set(read_kv(tmp_path / "o" / "valid" / "utt2spk").values()) == {"p226", "p228"}
    r = subprocess.run(prep + ["--out", str(tmp_path / "o2"), "--valid-speakers", "p999"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 1 and "['p999'] are not training speakers (4 found)" in r.stderr


def test_own_dirs_need_lengths(tmp_path):
    from seslib.bin.data_dir import link_own_dirs
    rng = np.random.default_rng(3)
    d = tmp_path / "mine"
    noisy, clean = _pair(rng)
    write_wav(tmp_path / "n.wav", noisy)
    write_wav(tmp_path / "c.wav", clean)
    d.mkdir()
    for name, text in (("wav.scp", f"u1 {tmp_path / 'n.wav'}\n"), ("spk1.scp", f"u1 {tmp_path / 'c.wav'}\n"),
                       ("utt2spk", "u1 u1\n"), ("spk2utt", "u1 u1\n")):
        (d / name).write_text(text)
    dirs = {"train": str(d), "valid": str(d), "test": str(d)}
    assert link_own_dirs(dirs, tmp_path / "data") == 1 and not (tmp_path / "data" / "train").exists()
    import_pair_dir(d, tmp_path / "mine16k")  # the fix the message names
    dirs = {k: str(tmp_path / "mine16k") for k in dirs}
    assert link_own_dirs(dirs, tmp_path / "data") == 0
    assert (tmp_path / "data" / "valid").resolve() == (tmp_path / "mine16k").resolve()


def test_own_dirs_are_checked_like_the_recipes_own(tmp_path):
    """Own data dirs get stage 1's checks: not empty, pairs of equal length at 16 kHz,
    utt2num_samples that matches the audio at 16 kHz; the message names the option and utterance."""
    from seslib.bin.data_dir import link_own_dirs
    rng = np.random.default_rng(4)
    noisy, clean = _pair(rng)
    write_wav(tmp_path / "n.wav", noisy)
    write_wav(tmp_path / "c.wav", clean)
    write_wav(tmp_path / "c_short.wav", clean[:-800])

    def mk(name, files):
        d = tmp_path / name
        d.mkdir()
        for f, text in files.items():
            (d / f).write_text(text)
        return str(d)
    good = mk("good", {"wav.scp": f"u1 {tmp_path / 'n.wav'}\n", "spk1.scp": f"u1 {tmp_path / 'c.wav'}\n",
                       "utt2spk": "u1 u1\n", "spk2utt": "u1 u1\n", "utt2num_samples": f"u1 {len(noisy)}\n"})
    cases = {
        "empty": ({f: "" for f in ("wav.scp", "spk1.scp", "utt2spk", "spk2utt", "utt2num_samples")}, "no utterances"),
        "misaligned": ({"wav.scp": f"u1 {tmp_path / 'n.wav'}\n", "spk1.scp": f"u1 {tmp_path / 'c_short.wav'}\n",
                        "utt2spk": "u1 u1\n", "spk2utt": "u1 u1\n", "utt2num_samples": f"u1 {len(noisy)}\n"},
                       "utterance 'u1'"),
        "at22k": ({"wav.scp": f"u1 {tmp_path / 'n.wav'}\n", "spk1.scp": f"u1 {tmp_path / 'c.wav'}\n",
                   "utt2spk": "u1 u1\n", "spk2utt": "u1 u1\n", "utt2num_samples": f"u1 {len(noisy) * 22050 // 16000}\n"},
                  "utt2num_samples says"),
    }
    for name, (files, msg) in cases.items():
        d = mk(name, files)
        import io
        from contextlib import redirect_stderr
        err = io.StringIO()
        with redirect_stderr(err):
            assert link_own_dirs({"train": good, "valid": good, "test": d}, tmp_path / f"data_{name}") == 1
        assert f"--test-dir {d} is not a valid data dir" in err.getvalue() and msg in err.getvalue(), name
        assert not (tmp_path / f"data_{name}").exists()
    with pytest.raises(DataDirError, match="no utterances"):
        import_pair_dir(tmp_path / "empty", tmp_path / "imported")
    assert not (tmp_path / "imported").exists()
