"""Teacher features dumped to ark/scp: equal to the teacher run online, frame-aligned crops,
parallel jobs, resumable, absolute paths."""
import json
import os

import kaldiio
import numpy as np
import pytest
import torch

from seslib import audio, stft
from seslib.bin import dump_features, mix_data
from seslib.data import read_kv
from seslib.features import DumpedFeatures, OnlineFeatures
from seslib.teacher import Teacher
from seslib.train.crops import CropSampler


@pytest.fixture
def data_dir(source_dir, tmp_path):
    assert mix_data.main(["all", "--sources", str(source_dir), "--out", str(tmp_path / "train"), "--tag", "train",
                          "--quiet", "--seed", "1"]) == 0
    return tmp_path / "train"


@pytest.mark.parametrize("backend", ["wav2vec2", "whisper"])
def test_dumped_equals_online_and_crops_are_frame_aligned(backend, data_dir, tiny_teacher_dir, tiny_whisper, tmp_path,
                                                          monkeypatch):
    spec = tiny_teacher_dir if backend == "wav2vec2" else tiny_whisper / "ct2_float32"
    out = tmp_path / "dump"
    assert dump_features.main(["--teacher", str(spec), "--data-dir", str(data_dir), "--out", str(out),
                               "--nj", "2", "--quiet"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    nh = 3
    assert meta == {"teacher": str(spec.resolve()), "dim": 32, "num_hidden": nh, "hop": 320, "storage": "float32"}
    teacher = Teacher(str(spec), layers="all")
    online = OnlineFeatures(teacher)
    monkeypatch.chdir("/")  # scp paths must not depend on the working directory
    utts = sorted(read_kv(data_dir / "wav.scp"))
    for kind, scp in (("clean", "spk1.scp"), ("noisy", "wav.scp")):
        last = kaldiio.load_scp(str(out / f"{kind}_last.scp"))
        allh = kaldiio.load_scp(str(out / f"{kind}_all.scp"))
        assert sorted(last) == sorted(allh) == utts
        table = read_kv(data_dir / scp)
        for utt in utts:
            x = torch.from_numpy(audio.read_audio(table[utt]))[None]
            ref = online.batch([f"{kind}_last", f"{kind}_all"], {kind: x})
            assert last[utt].dtype == np.float32
            assert np.allclose(last[utt], ref[f"{kind}_last"][0].numpy(), atol=1e-5)
            assert np.allclose(allh[utt].reshape(-1, 3, 32).transpose(1, 0, 2), ref[f"{kind}_all"][0].numpy(),
                               atol=1e-5)
            assert last[utt].shape[0] == stft.num_frames(stft.padded_length(x.shape[1]))

    # a crop at offset 320 k reads frames k.. of the whole-utterance features
    crop = 8000
    sampler = CropSampler(data_dir, crop, 2, seed=3, align=stft.HOP)
    feats = DumpedFeatures(out, ["clean_last", "clean_all"])
    for step in range(4):
        plan = sampler.plan(step)
        assert all(off % stft.HOP == 0 for _, off in plan)
        b = feats.batch(["clean_last", "clean_all"], plan, crop)
        T = stft.num_frames(stft.padded_length(crop))
        assert b["clean_last"].shape == (2, T, 32) and b["clean_all"].shape == (2, 3, T, 32)
        whole = kaldiio.load_scp(str(out / "clean_last.scp"))
        for i, (utt, off) in enumerate(plan):
            m = whole[utt][off // 320: off // 320 + T]
            assert np.array_equal(b["clean_last"][i, :len(m)].numpy(), m)
            assert torch.equal(b["clean_all"][i, -1], b["clean_last"][i])
    with pytest.raises(ValueError, match="not a multiple"):
        feats.crop("clean_last", utts[0], 100, 5)


def test_dump_reruns_only_missing_jobs(data_dir, tiny_teacher_dir, tmp_path):
    out = tmp_path / "dump"
    args = ["--teacher", str(tiny_teacher_dir), "--data-dir", str(data_dir), "--out", str(out), "--nj", "2",
            "--quiet", "--kinds", "clean", "--layers", "last"]
    assert dump_features.main(args) == 0
    job1, job2 = out / "clean_last" / "feats.1.scp", out / "clean_last" / "feats.2.scp"
    ark2 = out / "clean_last" / "feats.2.ark"
    before = job1.stat().st_mtime_ns
    ref = dict(kaldiio.load_scp(str(out / "clean_last.scp")))
    os.remove(job2)                      # job 2 "was killed" before its scp was renamed into place
    ark2.write_bytes(b"torn")
    assert dump_features.main(args) == 0
    assert job1.stat().st_mtime_ns == before  # job 1 was not redone
    again = kaldiio.load_scp(str(out / "clean_last.scp"))
    assert sorted(again) == sorted(ref) and all(np.array_equal(again[k], ref[k]) for k in ref)


def test_dump_errors_name_the_problem(data_dir, tiny_teacher_dir, tmp_path, caplog):
    assert dump_features.main(["--teacher", str(tmp_path / "nope"), "--data-dir", str(data_dir),
                               "--out", str(tmp_path / "d"), "--quiet"]) == 1
    assert "nope" in caplog.text
    with pytest.raises(FileNotFoundError, match="dump the teacher features first"):
        DumpedFeatures(tmp_path / "empty", ["clean_last"])


def test_truncated_ark_is_named_before_training(data_dir, tiny_teacher_dir, tmp_path):
    out = tmp_path / "dump"
    assert dump_features.main(["--teacher", str(tiny_teacher_dir), "--data-dir", str(data_dir), "--out", str(out),
                               "--nj", "1", "--quiet", "--kinds", "clean", "--layers", "last"]) == 0
    DumpedFeatures(out, ["clean_last"])  # intact: opens
    ark = out / "clean_last" / "feats.1.ark"
    ark.write_bytes(ark.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"feats.1.ark \(\d+ bytes\) is damaged: the features of utterance .* do "
                                         r"not load .*dump the teacher features again"):
        DumpedFeatures(out, ["clean_last"])


def test_dump_only_the_streams_asked_for(data_dir, tiny_teacher_dir, tmp_path):
    out = tmp_path / "dump"
    assert dump_features.main(["--teacher", str(tiny_teacher_dir), "--data-dir", str(data_dir), "--out", str(out),
                               "--nj", "2", "--quiet", "--streams", "clean_last", "noisy_all"]) == 0
    assert sorted(p.name for p in out.glob("*.scp")) == ["clean_last.scp", "noisy_all.scp"]
    assert not (out / "clean_all").exists() and not (out / "noisy_last").exists()
    f = DumpedFeatures(out, ["clean_last", "noisy_all"])
    assert f.meta["num_hidden"] == 3


def test_compressed_storage_is_smaller_and_close(data_dir, tiny_teacher_dir, tmp_path):
    sizes, feats = {}, {}
    for st in ("float32", "two-byte", "speech-feature"):
        out = tmp_path / st
        assert dump_features.main(["--teacher", str(tiny_teacher_dir), "--data-dir", str(data_dir), "--out", str(out),
                                   "--quiet", "--streams", "clean_all", "--storage", st]) == 0
        sizes[st] = sum(p.stat().st_size for p in out.glob("clean_all/*.ark"))
        feats[st] = dict(kaldiio.load_scp(str(out / "clean_all.scp")))
        assert json.loads((out / "meta.json").read_text())["storage"] == st
    assert sizes["speech-feature"] < sizes["two-byte"] < 0.6 * sizes["float32"]
    for st, tol in (("two-byte", 1e-3), ("speech-feature", 5e-2)):
        num = sum(float(np.sum((feats[st][u] - v) ** 2)) for u, v in feats["float32"].items())
        den = sum(float(np.sum(v ** 2)) for v in feats["float32"].values())
        assert 0 < (num / den) ** 0.5 < tol, st
