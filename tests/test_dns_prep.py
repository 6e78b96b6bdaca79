"""--corpus dns on a tiny fake tree in the real layouts (DNS wav trees, LibriSpeech flac + trans.txt)."""
import subprocess
import sys

import numpy as np
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
    for k in range(10):
        write_wav(dns / "noise" / f"door_{k}.wav", (0.05 * rng.standard_normal(16000 * 3)).astype(np.float32))
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
    assert r.returncode == 1 and f"{tmp_path}/no/clean does not exist" in r.stderr
