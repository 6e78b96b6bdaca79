"""Shared fixtures: small signals and source dirs made in the test, no TTS needed."""
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test reaches for a model hub (none is reachable here)

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "dns_wav2vec2"
SR = 16000


def speechlike(rng, seconds=2.0):
    """A speech-like test signal: harmonic bursts with syllable-rate envelope and pauses."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = rng.uniform(90, 220)
    x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 12))
    env = np.clip(np.sin(2 * np.pi * rng.uniform(2, 5) * t), 0, None) ** 2
    env[: n // 10] = 0  # leading pause
    return (0.1 * x * env + 1e-4 * rng.standard_normal(n)).astype(np.float32)


def write_wav(path, x, sr=SR, subtype="PCM_16"):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype=subtype)
    return path


def write_scores(path, si_sdr, words=10, ovrl=None):
    """A score dir as seslib.bin.score writes it (scores.tsv): one utterance per SI-SDR value (and
    per DNSMOS OVRL value, when given)."""
    path.mkdir(parents=True)
    lines = ["utt\tpesq\tstoi\tsi_sdr\tword_errors\tref_words\tpesq_error\thypothesis\tdnsmos_ovrl"]
    ovrl = [""] * len(si_sdr) if ovrl is None else ovrl
    lines += [f"u{i:03d}\t1.5\t0.7\t{v}\t3\t{words}\t\tx\t{o}" for i, (v, o) in enumerate(zip(si_sdr, ovrl))]
    (path / "scores.tsv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def source_dir(tmp_path):
    """A source dir with 6 speech files (3 speakers) and 3 noise files."""
    return make_source_dir(tmp_path)


def make_source_dir(tmp_path):
    """See :func:`source_dir`."""
    rng = np.random.default_rng(0)
    d = tmp_path / "src"
    d.mkdir()
    scp, spk, text, noise = [], [], [], []
    for i in range(6):
        sid = f"spk{i % 3}-utt{i}"
        p = write_wav(tmp_path / "audio" / f"{sid}.wav", speechlike(rng, rng.uniform(1.5, 3.0)))
        scp.append(f"{sid} {p}\n")
        spk.append(f"{sid} spk{i % 3}\n")
        text.append(f"{sid} words of utt {i}\n")
    kinds = [rng.standard_normal(SR * 3) * 0.05,
             np.sin(2 * np.pi * 60 * np.arange(SR * 2) / SR) * 0.1,
             np.where(rng.random(SR * 4) < 0.001, 0.8, 0.0) + 1e-3 * rng.standard_normal(SR * 4)]
    for k, x in enumerate(kinds):
        p = write_wav(tmp_path / "audio" / f"noise{k}.wav", x.astype(np.float32))
        noise.append(f"noise{k} {p}\n")
    for name, lines in (("speech.scp", scp), ("speech2spk", spk), ("speech.text", text), ("noise.scp", noise)):
        (d / name).write_text("".join(sorted(lines)))
    return d


@pytest.fixture
def dirs(source_dir, tmp_path):
    """Training and validation data dirs mixed from :func:`source_dir`."""
    from seslib.bin import mix_data
    for tag in ("train", "valid"):
        assert mix_data.main(["all", "--sources", str(source_dir), "--out", str(tmp_path / tag), "--tag", tag,
                              "--quiet", "--seed", "1" if tag == "train" else "2"]) == 0
    return tmp_path / "train", tmp_path / "valid"


def kill_at_first_checkpoint(cmd, out: Path, env) -> None:
    """Start the training command ``cmd`` (writing to ``out``) and SIGKILL its process group
    as soon as ``out/last.pt`` exists: a run killed mid-training, for resume tests."""
    import signal
    import subprocess
    import time
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "last.pt").exists():
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture
def env():
    """Environment for shell tools: this interpreter's bin dir first on PATH."""
    e = dict(os.environ)
    e["PATH"] = str(Path(sys.executable).parent) + os.pathsep + e["PATH"]
    e["SESLIB_ROOT"] = str(ROOT)
    return e


def new_recipe(tmp: Path, name: str = "toy_se") -> Path:
    """A recipe made by egs/TEMPLATE/setup.sh in ``tmp/egs/<name>`` (a copy of the template beside it)."""
    import subprocess
    egs = tmp / "egs"
    shutil.copytree(ROOT / "egs" / "TEMPLATE", egs / "TEMPLATE", symlinks=True)
    (tmp / "utils").symlink_to(ROOT / "utils")
    subprocess.run([str(egs / "TEMPLATE" / "setup.sh"), str(egs / name)], check=True, capture_output=True)
    return egs / name


def make_pairs(root: Path, name: str, n: int, rng, text=True) -> Path:
    """A user's own data dir ``root/<name>`` of ``n`` one-second noisy/clean pairs, imported from the
    pair dir ``root/src/<name>`` (audio in ``root/wavs``)."""
    from seslib.premixed import import_pair_dir
    src = root / "src" / name
    src.mkdir(parents=True)
    wav, spk1, words = [], [], []
    for i in range(n):
        clean = speechlike(rng, 1.0)
        noisy = clean + (0.05 * rng.standard_normal(len(clean))).astype(np.float32)
        u = f"{name}_{i}"
        wav.append(f"{u} {write_wav(root / 'wavs' / f'{u}_n.wav', noisy)}")
        spk1.append(f"{u} {write_wav(root / 'wavs' / f'{u}_c.wav', clean)}")
        words.append(f"{u} hello number {i}")
    (src / "wav.scp").write_text("\n".join(wav) + "\n")
    (src / "spk1.scp").write_text("\n".join(spk1) + "\n")
    if text:
        (src / "text").write_text("\n".join(words) + "\n")
    import_pair_dir(src, root / name)
    return root / name


def copy_recipe(dst: Path) -> Path:
    """A copy of the recipe dir (scripts and conf) whose outputs stay in ``dst``, with the test-size
    configs of ``tests/conf`` (``--train-conf-tag tiny``, ``--mini-conf conf/data_mini_tiny.yaml``,
    ``--teacher-conf conf/teacher_tiny.yaml``) in its ``conf``."""
    shutil.copytree(RECIPE, dst, symlinks=False, ignore=shutil.ignore_patterns("data", "exp", "dump", "utils"))
    (dst / "utils").symlink_to(ROOT / "utils")
    for f in (ROOT / "tests" / "conf").glob("*.yaml"):
        shutil.copyfile(f, dst / "conf" / f.name)
    return dst


@pytest.fixture(scope="session")
def tiny_teacher_dir(tmp_path_factory):
    """A randomly initialised, tiny Wav2Vec2 (save_pretrained dir) with the real
    feature-encoder geometry: 2 layers of width 32, so 3 hidden states."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model
    d = tmp_path_factory.mktemp("w2v")
    cfg = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
    torch.manual_seed(0)
    Wav2Vec2Model(cfg).save_pretrained(d)
    Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(d)
    return d


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory):
    """A tiny random Whisper (save_pretrained) and its CTranslate2 conversions (float32, int8),
    made by ctranslate2's own converter. 12 positions: inputs over 11 frames are encoded in pieces."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    root = tmp_path_factory.mktemp("whisper")
    cfg = WhisperConfig(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64, decoder_layers=1,
                        decoder_attention_heads=2, decoder_ffn_dim=64, num_mel_bins=80, max_source_positions=12,
                        max_target_positions=16, vocab_size=100, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        decoder_start_token_id=0)
    torch.manual_seed(0)
    WhisperForConditionalGeneration(cfg).save_pretrained(root / "hf")
    for q in ("float32", "int8"):
        TransformersConverter(str(root / "hf")).convert(str(root / f"ct2_{q}"), quantization=q)
    return root


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, tiny_teacher_dir):
    """Tiny train/valid dirs and the train features dumped by the tiny teacher."""
    from seslib.bin import dump_features, mix_data
    root = tmp_path_factory.mktemp("modes")
    src = make_source_dir(root)
    for tag, seed in (("train", "1"), ("valid", "2")):
        assert mix_data.main(["all", "--sources", str(src), "--out", str(root / tag), "--tag", tag,
                              "--quiet", "--seed", seed]) == 0
    assert dump_features.main(["--teacher", str(tiny_teacher_dir), "--data-dir", str(root / "train"),
                               "--out", str(root / "dump"), "--quiet"]) == 0
    return root
