"""run.sh on the tiny embedded corpus: builds, skips when done, resumes after a kill,
and gives identical files for the same seed."""
import hashlib
import os
import signal
import subprocess
import time

from conftest import copy_recipe
from seslib.data import read_plan, validate_data_dir

ARGS = ["--stage", "0", "--stop-stage", "1", "--mini-conf", "conf/data_mini_tiny.yaml", "--nj", "2", "--test-snrs", "0 5"]


def _digest(rec):
    h = hashlib.sha256()
    for p in sorted((rec / "data").rglob("*")):
        if p.is_file() and p.suffix in (".wav", ".json", ".jsonl", ".scp", "") and "/log/" not in str(p) \
                and ".plan" not in p.parts:
            h.update(str(p.relative_to(rec)).encode() + p.read_bytes().replace(str(rec).encode(), b""))
    return h.hexdigest()


def _lock_held(rec) -> bool:
    import fcntl
    with open(rec / "exp" / "run.lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def test_build_skip_kill_resume_and_determinism(tmp_path, env):
    a = copy_recipe(tmp_path / "a")
    r = subprocess.run(["./run.sh", *ARGS], cwd=a, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "stage 0_sources" in r.stdout and "finished in" in r.stdout
    for s in ("train", "valid", "test", "test_heldout"):
        assert validate_data_dir(a / "data" / s, check_audio="header", require=("spk1.scp", "noise1.scp", "text")) == []
    for s in ("test", "test_heldout"):
        assert all(e["snr_db"] == -5 for e in read_plan(a / "data" / s / "mix_plan.jsonl").values())
    # the held-out-voice test set shares no voice (speaker) with training, validation or the standard test
    spk = {s: {line.split()[0] for line in (a / "data" / s / "spk2utt").read_text().splitlines()}
           for s in ("train", "valid", "test", "test_heldout")}
    assert spk["test_heldout"] == {"flite_awb"}
    assert not spk["test_heldout"] & (spk["train"] | spk["valid"] | spk["test"])
    assert "espeak_enus_f2" in spk["train"] and "espeak_enus_f2" not in spk["test"]
    assert len((a / "data" / "rirs" / "rir.scp").read_text().splitlines()) == 150
    # the test set again at 0 and +5 dB: the same utterance ids, speech and noise segments, another SNR
    plans = {s: read_plan(a / "data" / s / "mix_plan.jsonl") for s in ("test", "test_snr0", "test_snr5")}
    assert plans["test"].keys() == plans["test_snr0"].keys() == plans["test_snr5"].keys()
    assert all(e["snr_db"] == 5 for e in plans["test_snr5"].values())
    same = lambda e: {x: v for x, v in e.items() if "snr" not in x and "gain" not in x}  # noqa: E731
    assert all(same(e) == same(plans["test"][k]) for k, e in plans["test_snr0"].items())
    # second run: every stage skipped (its work is not redone: no "started" line)
    r = subprocess.run(["./run.sh", *ARGS], cwd=a, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count("skipped") == 5  # sources, mix, test_snr0, test_snr5, RIRs
    assert ": started" not in r.stdout

    # a run killed in the middle of stage 0 finishes on rerun, with the same files
    b = copy_recipe(tmp_path / "b")
    proc = subprocess.Popen(["./run.sh", *ARGS], cwd=b, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    speech = b / "data" / "local" / "mini" / "speech"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(speech.glob("*.wav"))) < 3:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (b / "exp" / "stages" / "0_sources.done").exists()
    # its synthesis jobs (own process groups) outlive it and still hold the recipe's lock: a rerun
    # now would write the same files beside them, so it is refused until they end
    assert _lock_held(b)
    r = subprocess.run(["./run.sh", *ARGS], cwd=b, env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "processes it started still hold" in r.stderr, r.stderr
    deadline = time.time() + 300
    while _lock_held(b) and time.time() < deadline:
        time.sleep(0.2)
    r = subprocess.run(["./run.sh", *ARGS], cwd=b, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # same seed, separate builds (one interrupted): identical corpus, bit for bit
    assert _digest(a) == _digest(b)


def test_help_lists_stages_and_rejects_unknown_options(env):
    from conftest import RECIPE
    r = subprocess.run(["./run.sh", "--help"], cwd=RECIPE, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "0  data preparation" in r.stdout and "1  mixtures" in r.stdout
    assert r.stdout.index("--mini-conf FILE") < r.stdout.index("--stage N")  # the recipe's own options first
    assert r.stderr == ""  # all of it on stdout: `run.sh --help | less` shows it all
    r = subprocess.run(["./run.sh", "--bogus", "1"], cwd=RECIPE, env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "unknown option --bogus" in r.stderr
    # numeric options are checked before anything runs: one message, non-zero exit
    for args, msg in ((["--stage", "abc"], "--stage must be a whole number (0, 1, 2, ...), not 'abc'"),
                      (["--stage", "5", "--stop-stage", "3"], "--stage 5 is after --stop-stage 3"),
                      (["--nj", "0"], "--nj must be at least 1"), (["--nproc=two"], "--nproc must be a whole number"),
                      (["--seed", "1.5"], "--seed must be a whole number"),
                      (["--analysis", "maybe"], "--analysis takes true or false, not 'maybe'"),
                      (["--teacher-check", "yes"], "--teacher-check takes true or false")):
        r = subprocess.run(["./run.sh", *args], cwd=RECIPE, env=env, capture_output=True, text=True)
        assert r.returncode == 1 and msg in r.stderr and r.stderr.count("\n") == 1 and r.stdout == "", (args, r.stderr)


MODES = "base concat_ws distill_embed distill_output adversarial_ws"


def test_full_pipeline_tiny(tmp_path, env):
    """Stages 0-7 at tiny size: teacher pre-training and dump, training of base, SSL and
    distillation modes, enhance, score (with a peer), results table."""
    rec = copy_recipe(tmp_path / "r")
    common = ["--mini-conf", "conf/data_mini_tiny.yaml", "--train-conf-tag", "tiny", "--teacher-conf",
              "conf/teacher_tiny.yaml", "--modes", MODES, "--peers", "rnnoise", "--nj", "2",
              "--teacher-ablation", "random pretrain", "--teacher-ablation-modes", "distill_embed",
              "--teacher-check-sentences", "3",
              "--pretraining", "pipeline_l1 finetune_l1_teacher",  # + what they are initialised from
              "--test-snrs", "0", "--train-seeds", "2", "--seed-systems", "concat_ws",
              "--ablation", "base_static base_dynmix", "--dnsmos-sets", "test"]
    r = subprocess.run(["./run.sh", *common, "--nproc", "2"],
                       cwd=rec, env=dict(env, OMP_NUM_THREADS="1"), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for mode in MODES.split():  # trained with torchrun DDP, the discriminator's gradients averaged by hand
        assert "2 process(es)" in (rec / "exp" / mode / "train.log").read_text()
    for s in ("2_teacher", "2_teacher_check_whisper-tiny.en", "2_teacher_check_pretrain", "2_dump_train_whisper-tiny.en",
              "3_train_distill_embed_teacher-random", "3_train_distill_embed_teacher-pretrain",
              "3_train_base", "3_train_concat_ws",
              "3_train_base_static", "3_train_base_dynmix", "4_enhance_base_test", "4_enhance_concat_ws_test",
              "4_enhance_base_test_heldout", "5_score_noisy_test", "5_score_base_test", "5_score_adversarial_ws_test",
              "5_score_base_static_test_heldout", "5_score_clean_test_heldout",
              "3_train_pretrain_enc_l1", "3_train_pretrain_dec_teacher", "3_train_pipeline_l1",
              "3_train_finetune_l1_teacher", "4_enhance_pretrain_dec_teacher_test", "5_score_pipeline_l1_test",
              "5_score_finetune_l1_teacher_test", "1_mix_test_snr0", "5_score_noisy_test_snr0",
              "5_score_pipeline_l1_test_snr0", "5_score_base_test_snr0",
              "3_train_student", "3_train_resynth_student", "4_enhance_resynth_student_test", "6_lags", "6_spectra",
              "3_train_base_seed2", "4_enhance_concat_ws_seed2_test", "5_score_concat_ws_seed2_test",
              "3_train_base_steps12", "5_score_base_steps12_test"):
        assert (rec / "exp" / "stages" / f"{s}.done").is_file(), s
    # the encoder pre-training does not enhance; Tables 2-3 and the teacher ablation: first test set only
    for s in ("4_enhance_pretrain_enc_l1_test", "4_enhance_pipeline_l1_test_heldout",
              "5_score_distill_embed_teacher-random_test_heldout", "5_score_clean_test_snr0",
              "5_score_distill_embed_test_snr0", "4_enhance_rnnoise_test_snr0"):
        assert not (rec / "exp" / "stages" / f"{s}.done").is_file(), s
    # the decoder of teacher embeddings resynthesises the clean test speech (reading (i) of Table 2)
    import json
    cmd = json.loads((rec / "exp" / "stages" / "4_enhance_pretrain_dec_teacher_test.done").read_text())["command"]
    assert cmd[cmd.index("--input-scp") + 1] == "spk1.scp"
    assert "init: encoder, lstm, to_teacher from exp/pretrain_enc_l1/best.pt" in \
        (rec / "exp" / "finetune_l1_teacher" / "train.log").read_text()
    # dynamic mixing where the config asks for it; a teacher mode that mixes dynamically reads features online
    assert "dynamic mixing of" in (rec / "exp" / "base" / "train.log").read_text()
    assert "training utterances" in (rec / "exp" / "base_static" / "train.log").read_text()
    assert "features online" in (rec / "exp" / "distill_embed" / "train.log").read_text()
    assert "features dumped" in (rec / "exp" / "concat_ws" / "train.log").read_text()
    assert (rec / "exp" / "teacher" / "teacher" / "config.json").is_file()
    text = (rec / "RESULTS.md").read_text()
    assert "| Noisy input |" in text and "| Base |" in text and "## Stage wall times" in text
    assert "## Teachers" in text and "| random:whisper-tiny.en | random twin |" in text
    abl_t = text.split("## Teacher ablation")[1].split("\n## ")[0]
    assert "| Distillation Embed. | whisper-tiny.en |" in abl_t and "| Distillation Embed. | random:whisper-tiny.en |" in abl_t
    assert "| Distillation Embed. | exp/teacher/teacher |" in abl_t and "| Base | – |" in abl_t
    table1 = text.split("## Held-out")[0]  # the main table; the held-out and ablation tables repeat labels
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in table1.splitlines() if line.startswith("| ")}
    assert rows["Feature Concat-ws"][9] == "✗" and rows["Feature Concat-ws"][13] == "yes"  # teacher at inference
    assert rows["Feature Concat-ws"][12] == "whole utterance" and rows["Base"][12] == "25 ms"
    assert rows["Distillation Output"][13] == "no" and rows["Distillation Embed."][10] == "yes"
    assert all(1 <= float(rows[r][7]) <= 5 for r in ("Base", "Noisy input"))  # DNSMOS OVRL, scored on test
    assert "| Clean speech (reference) |" in text and "at -5 dB SNR" in text
    assert "## Held-out voices (test_heldout)" in text and "## Training data" in text
    t2 = text.split("## Table 2")[1].split("\n## ")[0]
    assert "| L1 / Teacher: (ii) noisy input, encoder -> decoder |" in t2 and "(i) resynthesis" in t2
    assert "assembled, not trained" in t2
    snr = text.split("## WER against SNR")[1].split("\n## ")[0]
    assert "| 0 dB |" in snr and "| Noisy input |" in snr and "| L1 / Teacher: (ii)" in snr
    # the same speech and noise segments at another SNR: same ids, same clean speech
    assert (rec / "data" / "test_snr0" / "spk1.scp").read_text().split("\n")[0].split()[0] == \
        (rec / "data" / "test" / "spk1.scp").read_text().split("\n")[0].split()[0]
    clean = json.loads((rec / "exp" / "clean" / "score_test" / "summary.json").read_text())
    assert "wer_sphinx" in clean and "per_sphinx" in clean  # the independent recogniser
    import yaml
    t3 = text.split("## Table 3")[1].split("\n## ")[0]
    assert "| Base |" in t3 and "| L1 / Teacher, fine-tuned |" in t3
    # equal budgets: the fine-tuned chain saw 4 encoder + 4 decoder + 4 fine-tuning steps, so a Base of 12
    # steps is trained, and the fine-tuned row is compared with it
    assert yaml.safe_load((rec / "exp" / "base_steps12" / "config.yaml").read_text())["train"]["max_steps"] == 12
    t3_rows = {line.split(" | ")[0][2:]: line for line in t3.splitlines() if line.startswith("| ")}
    assert "(base_steps12)" in t3_rows["L1 / Teacher, fine-tuned"]
    assert "in all 12 steps" in t3_rows["L1 / Teacher, fine-tuned"] and "| Base, 12 steps |" in t3
    assert "4 pretrain_enc_l1 + 4 pretrain_dec_teacher + 4 own" in t3_rows["L1 / Teacher, fine-tuned"]
    assert "| L1 / Teacher, fine-tuned | Base, 12 steps |" in text.split("## Which differences are established")[1]
    assert rows["Base"][14] == "4 / 0.0 h"  # Table 1's training steps / audio column
    abl = text.split("## Training data")[1]
    assert "| Base, static mixtures | static mixtures |" in abl and "| Base, dynamic mixing | dynamic mixing |" in abl
    assert "| Base | dynamic mixing + speed 0.5, reverb 0.5, colour 0.5, noise_gain 0.5, second_noise 0.5 |" in abl
    assert "Valid SI-SDR" in abl
    if (rec / "exp" / "stages" / "5_score_peer_rnnoise.done").is_file():
        assert "| RNNoise |" in text
    s = json.loads((rec / "exp" / "base" / "score_test" / "summary.json").read_text())
    assert s["utterances"] == 4 and "wer" in s
    # the analysis: bootstrap intervals, seed spread, lag statistics, the student, decoded speech, figures
    assert "| Feature Concat-ws | Base |" in text.split("## Which differences are established")[1]
    seeds = text.split("## Training-seed spread")[1].split("\n## ")[0]
    assert "| Base | 2 |" in seeds and "| Feature Concat-ws | 2 |" in seeds
    import yaml
    assert yaml.safe_load((rec / "exp" / "base_seed2" / "config.yaml").read_text())["train"]["seed"] == 2
    emb = text.split("## The teacher's embeddings")[1]
    assert "| teacher, last layer (Fig. 3) (384) |" in emb and "| teacher-shaped student (Fig. 4) (384) |" in emb
    assert "| Base GCRN bottleneck" in emb and "mean cosine" in emb and "| (c) student |" in emb
    assert (rec / "figures" / "lags_teacher.png").is_file() and (rec / "figures" / "spectrograms.png").is_file()
    assert "](figures/lags_student.png)" in emb
    # everything done: a rerun skips all stages
    r = subprocess.run(["./run.sh", *common, "--stage", "2", "--stop-stage", "5"],
                       cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "started" not in r.stdout
