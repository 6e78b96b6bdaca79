"""The frozen teacher behind one spec: every backend's frames line up with the GCRN's for
every input length, the bundled Whisper encoder matches CTranslate2's own, gradients reach
the input and never the weights, random twins are seeded, bad specs name themselves."""
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from seslib import stft
from seslib.models import GCRN
from seslib.teacher import Teacher, TeacherSpecError
from seslib.teacher.ct2_reader import read_model_bin

LENGTHS = [1, 399, 400, 401, 719, 720, 721, 3333, 16000]


def _tiny_ssl(family, path):
    import transformers
    cls_cfg, cls_model = {"wav2vec2": ("Wav2Vec2Config", "Wav2Vec2Model"), "hubert": ("HubertConfig", "HubertModel"),
                          "wavlm": ("WavLMConfig", "WavLMModel"),
                          "data2vec-audio": ("Data2VecAudioConfig", "Data2VecAudioModel")}[family]
    cfg = getattr(transformers, cls_cfg)(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                         intermediate_size=64, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                                         num_conv_pos_embedding_groups=4)
    torch.manual_seed(0)
    getattr(transformers, cls_model)(cfg).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_ssl_dirs(tmp_path_factory):
    return {f: _tiny_ssl(f, tmp_path_factory.mktemp(f)) for f in ("hubert", "wavlm", "data2vec-audio")}


def _specs(tiny_teacher_dir, tiny_ssl_dirs, tiny_whisper):
    return {"wav2vec2": str(tiny_teacher_dir), **{k: str(v) for k, v in tiny_ssl_dirs.items()},
            "whisper-hf": str(tiny_whisper / "hf"), "whisper-ct2": str(tiny_whisper / "ct2_float32"),
            "random-whisper-ct2": "random:" + str(tiny_whisper / "ct2_int8")}


def test_every_backend_gives_the_gcrn_frame_count(tiny_teacher_dir, tiny_ssl_dirs, tiny_whisper):
    g = GCRN(channels=[4, 6, 8, 8, 8])
    for name, spec in _specs(tiny_teacher_dir, tiny_ssl_dirs, tiny_whisper).items():
        t = Teacher(spec, layers="all")
        with torch.no_grad():
            for n in LENGTHS + [320 * 40 + 77]:  # the last: several 11-frame pieces for the tiny Whisper
                x = torch.randn(2, n)
                h = t(x)
                frames = stft.num_frames(stft.padded_length(n))
                assert h.shape == (2, t.num_hidden, frames, t.dim), (name, n)
                assert g.encode(x).shape[1] == frames


def test_whisper_frame_t_is_centred_on_gcrn_frame_t(tiny_whisper):
    """The input samples that reach frame t of the conv front end (its gradient's support)
    are centred on 320 t + 200, the centre of GCRN frame t."""
    t = Teacher(str(tiny_whisper / "hf"), layers="all")
    x = (0.1 * torch.randn(1, 320 * 9 + 80)).requires_grad_(True)  # white noise: no log-mel floor active
    h0 = t(x)[:, 0]  # conv output + positions (additive constants)
    assert h0.shape[1] == 9
    for frame in (2, 4, 6):
        x.grad = None
        h0[0, frame].sum().backward(retain_graph=True)
        support = torch.nonzero(x.grad[0].abs() > 0).flatten()
        lo, hi = support.min().item(), support.max().item()
        # Hann windows are symmetric about their centre sample (their first sample is 0):
        # the support is c - 519 .. c + 519 around c = 320 t + 200
        assert (lo, hi) == (320 * frame + 200 - 519, 320 * frame + 200 + 519), (frame, lo, hi)


def test_logmel_matches_faster_whisper():
    from faster_whisper.feature_extractor import FeatureExtractor

    from seslib.teacher.whisper import LogMel
    x = (0.05 * np.random.default_rng(0).standard_normal(12345)).astype(np.float32)
    x[3000:5000] = 0  # a silence: the floor at max - 8 is active there
    ref = FeatureExtractor(80)(x, padding=0)
    ours = LogMel(80)(torch.from_numpy(x)[None])[0].numpy()
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-4


def test_bundled_whisper_matches_ctranslate2_encode():
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor

    from seslib.teacher import bundled_dir
    name, _, variables = read_model_bin(bundled_dir("whisper-tiny.en") / "model.bin")
    assert name == "WhisperSpec" and variables["encoder/conv1/weight"].dtype == np.float16
    t = Teacher("whisper-tiny.en")
    assert (t.name, t.dim, t.num_hidden, t.family) == ("whisper-tiny.en", 384, 5, "whisper")
    rng = np.random.default_rng(0)
    x = np.zeros(480000, np.float32)
    x[:48000] = 0.1 * np.sin(2 * np.pi * 220 * np.arange(48000) / 16000) + 0.02 * rng.standard_normal(48000)
    mel = FeatureExtractor(80)(x, padding=0)[:, :3000]
    model = ctranslate2.models.Whisper(str(bundled_dir("whisper-tiny.en")), device="cpu", compute_type="float32")
    ref = np.array(model.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))[0]
    with torch.no_grad():
        ours = t.encoder.encode_mel(torch.from_numpy(mel)[None])[-1][0].numpy()
    assert ours.shape == ref.shape == (1500, 384)
    assert np.abs(ours - ref).max() < 2e-3 * np.abs(ref).max()


def test_ct2_reader_dequantises_int8(tiny_whisper):
    hf = Teacher(str(tiny_whisper / "hf"), layers="all")
    f32 = Teacher(str(tiny_whisper / "ct2_float32"), layers="all")
    i8 = Teacher(str(tiny_whisper / "ct2_int8"), layers="all")
    assert read_model_bin(tiny_whisper / "ct2_int8" / "model.bin")[2]["encoder/layer_0/ffn/linear_0/weight"].dtype \
        == np.int8
    x = torch.randn(2, 5000)
    with torch.no_grad():
        a, b, c = hf(x), f32(x), i8(x)
    assert torch.allclose(a, b, atol=1e-5)
    assert (a - c).abs().max() < 0.02 * a.abs().max() and not torch.allclose(a, c, atol=1e-6)


def test_teacher_is_frozen_and_passes_gradients_to_its_input(tiny_teacher_dir, tiny_whisper):
    """Output distillation through the teacher: an optimiser over everything that trains
    (student and teacher together) moves the student, never the teacher."""
    for spec in (str(tiny_teacher_dir), str(tiny_whisper / "hf")):
        t = Teacher(spec, layers="all")
        student = torch.nn.Conv1d(1, 1, 5, padding=2)
        t.train()
        assert not t.model.training
        before = {k: v.clone() for k, v in t.state_dict().items()}
        s_before = student.weight.detach().clone()
        opt = torch.optim.SGD([p for p in list(student.parameters()) + list(t.parameters()) if p.requires_grad], lr=0.1)
        x = torch.randn(2, 6000)
        loss = (t(student(x[:, None])[:, 0]) - t(x)).abs().mean()
        loss.backward()
        opt.step()
        assert student.weight.grad.abs().sum() > 0 and not torch.equal(student.weight, s_before)
        assert all(p.grad is None and not p.requires_grad for p in t.parameters())
        assert all(torch.equal(before[k], v) for k, v in t.state_dict().items())


def test_last_is_the_last_of_all(tiny_teacher_dir, tiny_whisper):
    x = torch.randn(1, 8000)
    for spec in (str(tiny_teacher_dir), str(tiny_whisper / "ct2_float32")):
        with torch.no_grad():
            last, allh = Teacher(spec)(x), Teacher(spec, layers="all")(x)
        assert last.shape == allh[:, -1].shape == (1, 25, allh.shape[-1])
        assert torch.allclose(allh[:, -1], last, atol=1e-5)


def test_normalisation_is_the_models_own(tiny_teacher_dir, tiny_ssl_dirs):
    from transformers import Wav2Vec2FeatureExtractor

    from seslib.teacher import ssl
    fe = Wav2Vec2FeatureExtractor.from_pretrained(str(tiny_teacher_dir))
    x = np.random.default_rng(1).standard_normal(5000).astype(np.float32) * 0.1 + 0.02
    ref = fe(x, sampling_rate=16000, return_tensors="pt").input_values
    t = Teacher(str(tiny_teacher_dir))
    assert t.do_normalize and torch.allclose(t.encoder.normalize(torch.from_numpy(x)[None]), ref, atol=1e-5)
    # no feature-extractor config: a group-normalised conv front end (fairseq base models) gets raw input
    assert not Teacher(str(tiny_ssl_dirs["hubert"])).do_normalize
    assert "facebook/wav2vec2-base" in ssl.RAW_INPUT


def test_random_twin_is_seeded_and_leaves_the_callers_rng_alone():
    torch.manual_seed(123)
    expect = torch.rand(1)
    torch.manual_seed(123)
    a = Teacher("random:whisper-tiny.en")
    assert torch.equal(torch.rand(1), expect)
    b, c, real = Teacher("random:whisper-tiny.en"), Teacher("random@1:whisper-tiny.en"), Teacher("whisper-tiny.en")
    assert (a.name, c.name, a.random_init, real.random_init) == \
        ("random:whisper-tiny.en", "random@1:whisper-tiny.en", True, False)
    w = lambda t: t.model.layers[0].fc1.weight  # noqa: E731
    assert torch.equal(w(a), w(b)) and not torch.equal(w(a), w(c)) and not torch.equal(w(a), w(real))
    assert Teacher(a.name).name == a.name


def test_bad_specs_name_the_spec_and_the_accepted_forms(tmp_path, tiny_whisper, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    good = (tiny_whisper / "ct2_float32" / "model.bin").read_bytes()
    cases = {}
    cases["whisper-huge"] = "no such directory"
    cases[str(tmp_path / "missing")] = "no such directory"
    (tmp_path / "empty").mkdir()
    cases[str(tmp_path / "empty")] = "neither config.json"
    for name, data in {"truncated": good[: len(good) // 2], "foreign": b"GIF89a" + bytes(100),
                       "other_spec": struct.pack("<I", 6) + struct.pack("<H", 16) + b"TransformerSpec\0"
                       + struct.pack("<II", 1, 0) + struct.pack("<I", 0)}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.bin").write_bytes(data)
    cases[str(tmp_path / "truncated")] = "truncated"
    cases[str(tmp_path / "foreign")] = "not a CTranslate2 model.bin"
    cases[str(tmp_path / "other_spec")] = "not a Whisper model"
    from transformers import BertConfig, Wav2Vec2Config
    BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8).save_pretrained(
        tmp_path / "bert")
    cases[str(tmp_path / "bert")] = "not a supported teacher family"
    Wav2Vec2Config(conv_stride=(5, 2, 2, 2, 2, 2, 1)).save_pretrained(tmp_path / "hop160")
    cases[str(tmp_path / "hop160")] = "unsupported front end: .*160-sample stride"
    cases["nobody/no-such-model"] = "cannot read a model config"
    cases["pretrain"] = "exp/teacher/teacher"
    cases[""] = "empty spec"
    for spec, why in cases.items():
        with pytest.raises(TeacherSpecError, match=why) as e:
            Teacher(spec)
        assert f"teacher '{spec}'" in str(e.value) and "Accepted: whisper-tiny.en" in str(e.value)
    with pytest.raises(ValueError, match="layers must be"):
        Teacher("whisper-tiny.en", layers="middle")


def test_dtw_and_content_scores():
    from seslib.bin.teacher_check import beats_random, content_scores, dtw_distance
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 8))
    assert dtw_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    stretched = np.repeat(a, 2, axis=0)  # the same "sentence", spoken twice as slowly
    assert dtw_distance(a, stretched) == pytest.approx(0.0, abs=1e-6)
    # by hand: a = [e1, e2], b = [e2]: costs (1, 0); best path (0,0)->(1,0): 1 + 0 over 2 + 1 frames
    e = np.eye(2)
    assert dtw_distance(e, e[1:]) == pytest.approx(1 / 3)
    assert dtw_distance(a, rng.standard_normal((40, 8))) > 0.2
    sents = [rng.standard_normal((int(rng.integers(20, 40)), 8)) for _ in range(4)]
    voices = {"a": sents, "b": [np.repeat(s, 2, axis=0) + 0.3 * rng.standard_normal((2 * len(s), 8)) for s in sents],
              "c": [s + 0.3 * rng.standard_normal(s.shape) for s in sents]}
    r = content_scores(voices)
    assert r["same_sentence_closer"] == 1.0 and r["comparisons"] == 3 * 2 * 4 * 3
    assert r["retrieval"] == 1.0 and r["retrieval_chance"] == 0.25
    assert r["same_sentence_other_voice"] < r["other_sentence_same_voice"] and r["dtw_ratio"] < 1
    noise = {v: [rng.standard_normal(s.shape) for s in sents] for v in voices}
    rn = content_scores(noise)
    assert rn["dtw_ratio"] > 0.9
    assert beats_random(r, {**rn, "retrieval": 0.25}) and not beats_random(rn, r)


def test_save_teacher_for_compute_nodes_without_a_hub(tmp_path, tiny_teacher_dir, tiny_whisper, monkeypatch, capsys):
    """A hub id that cannot be reached names the command that saves it; the saved folder is the same
    teacher (a save_pretrained folder stands in for the hub id here: from_pretrained reads both)."""
    from seslib.bin import save_teacher
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TeacherSpecError, match="python -m seslib.bin.save_teacher facebook/wav2vec2-base DIR"):
        Teacher("facebook/wav2vec2-base")
    for source in (str(tiny_teacher_dir), str(tiny_whisper / "hf")):
        out = tmp_path / Path(source).name
        assert save_teacher.main([source, str(out)]) == 0, capsys.readouterr().err
        assert "same embeddings" in capsys.readouterr().out and (out / "config.json").is_file()
        x = torch.randn(1, 8000) * 0.1
        with torch.no_grad():
            assert torch.equal(Teacher(source, layers="all")(x), Teacher(str(out), layers="all")(x))
        assert save_teacher.main([source, str(out)]) == 1 and "exists" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*.tmp"))
    assert save_teacher.main(["nobody/no-such-model", str(tmp_path / "x")]) == 1 and not (tmp_path / "x").exists()


def test_saved_raw_input_teacher_is_fed_what_its_hub_id_is(tmp_path, tiny_teacher_dir, monkeypatch):
    """facebook/wav2vec2-base is fed raw waveforms whatever its hub config says: the saved folder too."""
    import json

    from seslib.bin import save_teacher
    from seslib.teacher import ssl
    monkeypatch.setattr(ssl, "RAW_INPUT", {str(tiny_teacher_dir)})  # the tiny model stands for that hub id
    out = tmp_path / "saved"
    assert save_teacher.main([str(tiny_teacher_dir), str(out)]) == 0
    assert json.loads((out / "preprocessor_config.json").read_text())["do_normalize"] is False
    assert json.loads((tiny_teacher_dir / "preprocessor_config.json").read_text())["do_normalize"] is True
