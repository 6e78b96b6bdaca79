"""--corpus dns on a tiny fake tree in the real layouts (DNS wav trees, LibriSpeech flac + trans.txt)."""
import json
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import RECIPE, ROOT, speechlike, write_wav
from seslib.data import read_kv, read_plan, validate_data_dir


def make_fake_tree(root):
    rng = np.random.default_rng(0)
    dns = root / "DNS" / "datasets"
    for r in (11, 22, 33, 44):  # four readers, 48 kHz like the full-band release
        for k in range(2):
            x = np.concatenate([speechlike(rng, 3.0), speechlike(rng, 3.0)])
            import soxr
            write_wav(dns / "clean" / "read_speech" / f"book_0000{k}_chp_0001_reader_000{r}_{k}.wav",
                      soxr.resample(x, 16000, 48000), sr=48000)
    write_wav(dns / "clean" / "singing_voice" / "song_1.wav", speechlike(rng, 2.0))  # not read speech
    for k in range(10):  # 5 source recordings cut into 2 clips each, as the releases cut theirs
        write_wav(dns / "noise" / f"rec{k // 2}_{k % 2}.wav", (0.05 * rng.standard_normal(16000 * 3)).astype(np.float32))
    ls = root / "LibriSpeech" / "test-clean"
    for spk, chap in (("1089", "134686"), ("121", "121726")):
        d = ls / spk / chap
        d.mkdir(parents=True)
        lines = []
        for u in range(3):
            uid = f"{spk}-{chap}-{u:04d}"
            sf.write(str(d / f"{uid}.flac"), speechlike(rng, 2.0), 16000, format="FLAC")
            lines.append(f"{uid} HE HOPED THERE WOULD BE STEW FOR DINNER {u}")
        (d / f"{spk}-{chap}.trans.txt").write_text("\n".join(lines) + "\n")
    return dns, root / "LibriSpeech"


def test_dns_recipe_stages_on_fake_tree(tmp_path, env):
    from conftest import copy_recipe
    dns, libri = make_fake_tree(tmp_path / "corpora")
    rec = copy_recipe(tmp_path / "recipe")
    env = dict(env, DNS_ROOT=str(dns), LIBRISPEECH_ROOT=str(libri))
    args = ["./run.sh", "--corpus", "dns", "--stage", "0", "--stop-stage", "1", "--nj", "2",
            "--dns-train-hours", "0.01", "--dns-valid-hours", "0.002", "--dns-segment-seconds", "2"]
    r = subprocess.run(args, cwd=rec, env=env, capture_output=True, text=True)
    # default: 500 test utterances, more than the fake tree has -> a clear error
    assert r.returncode != 0 and "--test-utts 500 but test-clean has 6" in r.stdout + r.stderr
    r = subprocess.run(args + ["--dns-test-utts", "4"], cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for s in ("train", "valid", "test"):
        assert validate_data_dir(rec / "data" / s, check_audio="header") == []
    train, valid, test = (read_plan(rec / "data" / s / "mix_plan.jsonl") for s in ("train", "valid", "test"))
    assert len(train) == 18 and len(valid) == 4 and len(test) == 4  # 0.01 h / 2 s, 0.002 h / 2 s
    assert all(e["num_samples"] == 32000 for e in train.values())
    assert all(-5 <= e["snr_db"] <= 5 for e in train.values())
    assert all(e["snr_db"] == -5 and abs(e["snr_realised_db"] + 5) < 0.1 for e in test.values())
    # readers disjoint between train and valid; singing voice not used
    assert not {e["spk"] for e in train.values()} & {e["spk"] for e in valid.values()}
    assert not any("song" in e["clean_path"] for e in train.values())
    # test = LibriSpeech utterances with their transcripts, noise held out from training
    text = read_kv(rec / "data" / "test" / "text")
    assert all(t.startswith("HE HOPED THERE WOULD BE STEW") for t in text.values())
    assert all(e["clean_path"].endswith(".flac") for e in test.values())
    assert not {e["noise"] for e in test.values()} & {e["noise"] for e in train.values()}
    assert not (rec / "data" / "train" / "text").exists()  # DNS clean speech has no transcripts


def test_prep_dns_errors_name_the_path(tmp_path):
    r = subprocess.run([sys.executable, str(RECIPE / "local" / "prep_dns.py"), "--dns-root", str(tmp_path / "no"),
                        "--librispeech-root", str(tmp_path), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "no DNS release found: looked for" in r.stderr
    for where in ("no/datasets_fullband/clean_fullband", "no/datasets/wideband/clean_wideband", "no/datasets/clean",
                  "no/clean"):
        assert f"{tmp_path}/{where}" in r.stderr  # every path looked for


def make_mini_src(root):
    """A mini-corpus-shaped source dir (stage 0's data/local/mini) with speech-like signals."""
    from seslib.data import write_kv
    rng = np.random.default_rng(1)
    for s, voices, n in (("train", ("joe", "kal"), 4), ("valid", ("awb",), 2), ("test", ("slt", "rms"), 3)):
        scp, spk, text = {}, {}, {}
        for v in voices:
            for k in range(n):
                u = f"{s}_{v}_{k}"
                scp[u] = str(write_wav(root / "speech" / f"{u}.wav", speechlike(rng, 3.0)))
                spk[u], text[u] = v, f"It's {v}'s sentence, number {k}."
        noise = {f"{s}_noise{k}": str(write_wav(root / "noise" / f"{s}_{k}.wav",
                                                (0.05 * rng.standard_normal(16000 * 12)).astype(np.float32)))
                 for k in range(2)}
        for name, kv in (("speech.scp", scp), ("speech2spk", spk), ("speech.text", text), ("noise.scp", noise)):
            write_kv(root / s / name, kv)
    return root


def test_fake_dns_tree_and_the_dns_path_stages_0_to_5(tmp_path, env, tiny_teacher_dir):
    """local/make_fake_dns.py writes the real layouts; run.sh --corpus dns runs stages 0-5 on them with
    the dns configs (--train-set overrides), teacher features dumped two-byte (the dns default) or online;
    scale_report reads the stamps."""
    import re

    from conftest import copy_recipe
    src = make_mini_src(tmp_path / "mini")
    tree = tmp_path / "fake"
    cmd = [sys.executable, str(RECIPE / "local" / "make_fake_dns.py"), "--mini-src", str(src), "--out", str(tree),
           "--train-hours", "0.01", "--clip-seconds", "6", "--readers-per-voice", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "using it again in another order" in r.stderr  # 30 s of mini speech, 36 s asked for
    clean = sorted((tree / "DNS" / "datasets_fullband" / "clean_fullband" / "read_speech").glob("*.wav"))
    assert clean and all(re.fullmatch(r"book_\d{5}_chp_\d{4}_reader_\d{5}_\d+\.wav", p.name) for p in clean)
    assert {sf.info(str(p)).samplerate for p in clean} == {48000}
    assert sum(sf.info(str(p)).duration for p in clean) >= 36
    readers = {re.search(r"reader_(\d+)", p.name).group(1) for p in clean}
    # 3 voices x 2 readers, the second clip read by a LibriSpeech test-clean speaker's id instead
    assert readers == {"00100", "00101", "00200", "00300", "00301", "01000"}
    # 6 noises of 12 s in 10 s clips, and the quirks: all-zero, near-silent, 0.5 s clips, a Readme.md
    assert len(list((tree / "DNS" / "datasets_fullband" / "noise_fullband").glob("*.wav"))) == 6 + 3
    trans = sorted((tree / "LibriSpeech" / "test-clean").glob("*/*/*.trans.txt"))
    lines = [ln for t in trans for ln in t.read_text().splitlines()]
    assert len(trans) == 2 and len(lines) == 6 and lines[0].split(" ", 1)[1] == "IT'S RMS'S SENTENCE NUMBER"
    assert all((t.parent / f"{ln.split()[0]}.flac").is_file() for t in trans for ln in t.read_text().splitlines())
    before = {p: p.stat().st_mtime_ns for p in clean}
    assert subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).returncode == 0  # a rerun rewrites nothing
    assert {p: p.stat().st_mtime_ns for p in clean} == before

    rec = copy_recipe(tmp_path / "recipe")
    env = dict(env, DNS_ROOT=str(tree / "DNS"), LIBRISPEECH_ROOT=str(tree / "LibriSpeech"))
    args = ["./run.sh", "--corpus", "dns", "--stage", "0", "--stop-stage", "5", "--nj", "2",
            "--dns-train-hours", "0.004", "--dns-valid-hours", "0.002", "--dns-segment-seconds", "2",
            "--dns-test-utts", "3", "--teacher", str(tiny_teacher_dir), "--modes", "base distill_embed",
            "--pretraining", "", "--analysis", "false", "--peers", "",
            "--dnsmos-sets", "", "--test-snrs", "", "--sphinx-systems", "", "--device", "cpu",
            "--train-set", "train.max_steps=2 train.batch_size=2 train.crop_seconds=1 train.log_every=1 "
                           "train.valid_every=2 train.ckpt_every=2 train.valid_max_utts=2 train.device=cpu"]
    r = subprocess.run(args, cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # dns: static mixtures, so the teacher's features are dumped (only the stream distill_embed reads), two-byte
    dump = next((rec / "dump").glob("*/train"))
    assert json.loads((dump / "meta.json").read_text())["storage"] == "two-byte"
    assert sorted(p.name for p in dump.glob("*.scp")) == ["clean_last.scp"]
    stamp = json.loads((rec / "exp" / "stages" / "3_train_distill_embed.done").read_text())
    assert "exp/plan/train/distill_embed.yaml" in stamp["command"]  # the resolved config: the stage's input
    import yaml
    used = yaml.safe_load((rec / "exp" / "distill_embed" / "config.yaml").read_text())
    assert used["teacher"]["features"] == "dumped" and used["train"]["max_steps"] == 2
    assert used["train"]["batch_size"] == 2 and used["optim"]["lr"] == 1e-3  # the dns config, overridden
    for s in ("base", "distill_embed"):
        assert json.loads((rec / "exp" / s / "score_test" / "summary.json").read_text())["utterances"] == 3
    # the teacher online instead: distill_embed is trained again (its config changed), Base is not
    r = subprocess.run(args[:4] + ["3", "--stop-stage", "3"] + args[7:] + ["--teacher-features", "online"],
                       cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    used = yaml.safe_load((rec / "exp" / "distill_embed" / "config.yaml").read_text())
    assert used["teacher"]["features"] == "online" and re.search(r"3_train_base .*: skipped", r.stdout)
    assert re.search(r"3_train_distill_embed .*: inputs or config changed, rebuilding", r.stdout)
    r = subprocess.run([sys.executable, "-m", "seslib.bin.scale_report", "--run", str(rec)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    rows = [ln for ln in r.stdout.splitlines() if re.match(r"\| \d ", ln)]
    assert [ln.split()[1] for ln in rows] == ["0", "1", "2", "3", "4", "5"]


def test_scale_report_fits_a_line_through_the_runs(tmp_path):
    from seslib.bin.scale_report import report
    runs = []
    for hours, secs, size in ((1.0, 100.0, 1000), (3.0, 250.0, 5000)):
        r = tmp_path / f"r{hours:g}"
        (r / "data" / "train").mkdir(parents=True)
        (r / "data" / "train" / "utt2num_samples").write_text(f"a {int(hours * 3600 * 16000) - 16000}\nb 16000\n")
        (r / "exp" / "stages").mkdir(parents=True)
        for name, s, files in (("2_dump_train_x", secs, {"d/a.ark": [size, None]}),
                               ("2_teacher_check_x", 10.0, {"c.json": [0, "h"]}), ("log", 1.0, {})):
            (r / "exp" / "stages" / f"{name}.done").write_text(json.dumps({"name": name, "elapsed_s": s,
                                                                          "written": files}))
        runs.append(r)
    rows = report(runs, 100.0)
    two = next(x for x in rows if x.startswith("| 2 "))
    # stage 2: (110 s, 1000 B) at 1 h and (260 s, 5000 B) at 3 h: slope 75 s/h and 2000 B/h -> 100 h: 7,535 s, 199,000 B
    assert "110 s, 0.00 MB (2 parts)" in two and "260 s, 0.01 MB (2 parts)" in two
    assert two.endswith("| 2.1 h, 0.20 MB |")
    assert not any(x.startswith("| log") for x in rows)


def test_prep_dns_test_noise_from_the_test_set_else_held_out(tmp_path):
    """With the 2020 synthetic no-reverb test set, the test noise is each noisy clip minus its clean clip
    and training keeps every noise file; without it, whole source recordings of the training noise are
    held out (a recording's clips never on both sides), and noise_source says which."""
    dns, libri = make_fake_tree(tmp_path / "corpora")
    prep = [sys.executable, str(RECIPE / "local" / "prep_dns.py"), "--dns-root", str(dns),
            "--librispeech-root", str(libri), "--test-utts", "4"]
    r = subprocess.run(prep + ["--out", str(tmp_path / "held")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    train, test = (read_kv(tmp_path / "held" / s / "noise.scp") for s in ("train", "test"))
    assert len(train) == 8 and len(test) == 2 and not set(train.values()) & set(test.values())
    held = {Path(p).stem.rsplit("_", 1)[0] for p in test.values()}
    assert len(held) == 1 and not {Path(p).stem.rsplit("_", 1)[0] for p in train.values()} & held
    assert (tmp_path / "held" / "test" / "noise_source").read_text().startswith(
        "held-out training noise (2 of 10 clips, 1 source recordings")
    rng = np.random.default_rng(3)
    ts = dns / "test_set" / "synthetic" / "no_reverb"
    for k in range(3):
        x = speechlike(rng, 2.0)
        z = (0.05 * rng.standard_normal(len(x))).astype(np.float32)
        write_wav(ts / "clean" / f"clean_fileid_{k}.wav", x, subtype="FLOAT")
        write_wav(ts / "noisy" / f"book_{k:05d}_snr0_tl-25_fileid_{k}.wav", x + z, subtype="FLOAT")
    r = subprocess.run(prep + ["--out", str(tmp_path / "ts")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    train, test = (read_kv(tmp_path / "ts" / s / "noise.scp") for s in ("train", "test"))
    assert len(train) == 10 and sorted(test) == [f"testnoise_fileid_{k:06d}" for k in range(3)]
    y, _ = sf.read(test["testnoise_fileid_000000"])
    x, _ = sf.read(str(ts / "clean" / "clean_fileid_0.wav"))
    n, _ = sf.read(str(ts / "noisy" / "book_00000_snr0_tl-25_fileid_0.wav"))
    assert np.abs(y - (n - x)).max() < 1e-6  # noisy minus clean
    assert "the DNS 2020 synthetic no-reverb test set" in (tmp_path / "ts" / "test" / "noise_source").read_text()
    r = subprocess.run(prep + ["--out", str(tmp_path / "x"), "--test-noise-dir", str(tmp_path / "none")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and f"--test-noise-dir {tmp_path}/none does not exist" in r.stderr


@pytest.mark.parametrize("layout", ["2020", "wideband", "lfs", "fullband"])
def test_stages_0_1_on_each_release_layout(tmp_path, env, layout):
    """Each release's stand-in tree (its folders, names, rates and quirks) through stages 0-1: the release
    is found under the folder downloaded into, read speech only, silent noise dropped and counted, the
    reader shared with LibriSpeech test-clean left out, the test noise from the 2020 test set or held out
    by recording; every choice in prep_choices.json."""
    from conftest import copy_recipe
    src = make_mini_src(tmp_path / "mini")
    tree = tmp_path / "fake"
    r = subprocess.run([sys.executable, str(RECIPE / "local" / "make_fake_dns.py"), "--mini-src", str(src),
                        "--out", str(tree), "--train-hours", "0.01", "--clip-seconds", "6", "--readers-per-voice", "2",
                        "--layout", layout], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    rec = copy_recipe(tmp_path / "recipe")
    e = dict(env, DNS_ROOT=str(tree / "DNS"), LIBRISPEECH_ROOT=str(tree / "LibriSpeech"))
    r = subprocess.run(["./run.sh", "--corpus", "dns", "--stage", "0", "--stop-stage", "1", "--nj", "2",
                        "--dns-train-hours", "0.004", "--dns-valid-hours", "0.002", "--dns-segment-seconds", "2",
                        "--dns-test-utts", "3", "--num-rirs", "2"], cwd=rec, env=e, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    choices = json.loads((rec / "data" / "local" / "dns" / "prep_choices.json").read_text())
    assert choices["layout"] == layout
    assert [Path(p).name for p in choices["silent_noise_dropped"]] == ["hum_faint_0.wav", "zeros_0.wav"]
    assert "noise: 2 of 9 clips dropped as silent" in r.stdout
    assert choices["readers_shared_with_test_clean"] == ["dns01000"] and "dns01000" not in \
        (rec / "data" / "local" / "dns" / "train" / "speech2spk").read_text()
    for s in ("train", "valid", "test"):
        assert validate_data_dir(rec / "data" / s, check_audio="header") == []
    train = read_plan(rec / "data" / "train" / "mix_plan.jsonl")
    assert not any("german" in e["clean_path"] for e in train.values())  # read speech only
    assert not any(Path(e["noise_path"]).name in ("zeros_0.wav", "hum_faint_0.wav") for e in train.values())
    test_source = (rec / "data" / "local" / "dns" / "test" / "noise_source").read_text()
    assert test_source.startswith("the DNS 2020 synthetic" if layout == "2020" else "held-out training noise")
