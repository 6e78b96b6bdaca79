"""Mixing plans: determinism, exact regeneration, realised SNR on every utterance."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from seslib import audio
from seslib.bin import mix_data
from seslib.data import read_kv, read_plan, validate_data_dir


def _digest(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted((d / "audio").rglob("*.wav")):
        h.update(p.name.encode() + p.read_bytes())
    for name in ("wav.scp", "utt2spk", "text", "utt2num_samples"):
        h.update((d / name).read_bytes().replace(str(d).encode(), b""))
    return h.hexdigest()


def _mix(src, out, seed=3, snr=("-5", "5"), extra=()):
    rc = mix_data.main(["all", "--sources", str(src), "--out", str(out), "--tag", "train", "--seed", str(seed),
                        "--snr", *snr, "--quiet", *extra])
    assert rc == 0


def test_same_seed_identical_files_other_seed_different(source_dir, tmp_path):
    _mix(source_dir, tmp_path / "a")
    _mix(source_dir, tmp_path / "b")
    _mix(source_dir, tmp_path / "c", seed=4)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


@pytest.mark.parametrize("definition", audio.SNR_DEFINITIONS)
def test_noisy_is_clean_plus_noise_and_snr_within_0p1_db(source_dir, tmp_path, definition):
    out = tmp_path / "d"
    _mix(source_dir, out, extra=("--snr-definition", definition))
    assert validate_data_dir(out, check_audio="header", require=("spk1.scp", "noise1.scp", "text")) == []
    wav, spk1, noise1 = (read_kv(out / f) for f in ("wav.scp", "spk1.scp", "noise1.scp"))
    plan = read_plan(out / "mix_plan.jsonl")
    assert set(plan) == set(wav) and len(wav) == 6
    for utt, e in plan.items():
        y = audio.read_audio(wav[utt])
        c = audio.read_audio(spk1[utt])
        z = audio.read_audio(noise1[utt])
        assert np.array_equal(y, c + z), utt
        assert -5 <= e["snr_db"] <= 5
        assert e["snr_definition"] == definition
        assert audio.snr(c, z, definition) == pytest.approx(e["snr_db"], abs=0.1), utt
        for key in ("clean", "clean_offset", "noise", "noise_offset", "snr_db", "clean_gain", "noise_gain", "seed"):
            assert key in e


def test_a_plan_older_than_snr_definition_is_rendered_with_active_windows(source_dir, tmp_path):
    """Plans written before the option record no definition: they were mixed on active windows."""
    _mix(source_dir, tmp_path / "new", extra=("--snr-definition", "active"))
    lines = (tmp_path / "new" / "mix_plan.jsonl").read_text().splitlines()
    old = []
    for line in lines:
        e = json.loads(line)
        for k in ("snr_definition", "clean_gain", "noise_gain", "snr_realised_db"):
            e.pop(k)
        old.append(json.dumps(e))
    (tmp_path / "old.jsonl").write_text("\n".join(old) + "\n")
    assert mix_data.main(["regenerate", "--plan", str(tmp_path / "old.jsonl"), "--out", str(tmp_path / "re"),
                          "--quiet"]) == 0
    assert _digest(tmp_path / "re") == _digest(tmp_path / "new")


def test_fixed_snr_for_test_sets(source_dir, tmp_path):
    _mix(source_dir, tmp_path / "t", snr=("-5", "-5"))
    for e in read_plan(tmp_path / "t" / "mix_plan.jsonl").values():
        assert e["snr_db"] == -5.0
        assert abs(e["snr_realised_db"] + 5.0) < 0.1


def test_regenerate_is_bit_exact(source_dir, tmp_path):
    _mix(source_dir, tmp_path / "a")
    assert mix_data.main(["regenerate", "--plan", str(tmp_path / "a" / "mix_plan.jsonl"),
                          "--out", str(tmp_path / "r"), "--quiet"]) == 0
    for p in (tmp_path / "a" / "audio").rglob("*.wav"):
        q = tmp_path / "r" / p.relative_to(tmp_path / "a")
        assert p.read_bytes() == q.read_bytes(), p.name


def test_segments_with_offsets(source_dir, tmp_path):
    out = tmp_path / "s"
    _mix(source_dir, out, extra=("--segment-seconds", "1.0", "--num-utts", "9"))
    plan = read_plan(out / "mix_plan.jsonl")
    assert len(plan) == 9
    assert all(e["num_samples"] == 16000 for e in plan.values())
    assert any(e["clean_offset"] > 0 for e in plan.values())
    e = next(iter(plan.values()))
    src = audio.read_audio(e["clean_path"])[e["clean_offset"]:e["clean_offset"] + 16000]
    c = audio.read_audio(read_kv(out / "spk1.scp")[e["utt"]])
    # the clean file is the planned source segment times the gain, rounded to 16 bits
    assert np.max(np.abs(c - src * e["clean_gain"])) <= 1 / 32768 + 1e-7


def test_resume_after_kill_skips_done_and_ignores_torn_record(source_dir, tmp_path):
    out = tmp_path / "k"
    assert mix_data.main(["plan", "--sources", str(source_dir), "--out", str(out), "--tag", "train",
                          "--seed", "3"]) == 0
    assert mix_data.main(["render", "--out", str(out), "--quiet"]) == 0
    rec = out / ".plan" / "records.1.jsonl"
    lines = rec.read_text().splitlines()
    # simulate a kill: last record torn, its audio half-written (temp file only), one utt lost
    rec.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])
    last = json.loads(lines[3])["utt"]
    noisy = out / "audio" / "noisy" / f"{last}.wav"
    noisy.unlink()
    (noisy.parent / f".{last}.wav.x.tmp").write_bytes(b"half")
    from seslib.mixing import render_job
    assert render_job(out, progress=False) == 3
    assert mix_data.main(["finalize", "--out", str(out)]) == 0
    ref = tmp_path / "ref"
    _mix(source_dir, ref)
    for p in (ref / "audio").rglob("*.wav"):
        assert p.read_bytes() == (out / p.relative_to(ref)).read_bytes()


def test_missing_source_is_named(source_dir, tmp_path):
    scp = source_dir / "speech.scp"
    lines = scp.read_text().splitlines()
    key, path = lines[0].split()
    Path(path).unlink()
    rc = mix_data.main(["all", "--sources", str(source_dir), "--out", str(tmp_path / "m"), "--tag", "x", "--quiet"])
    assert rc == 1


def test_missing_source_error_message(source_dir, tmp_path):
    from seslib.mixing import make_plan, read_source_dir
    speech, noise = read_source_dir(source_dir)
    first = sorted(speech)[0]
    Path(speech[first]["path"]).unlink()
    with pytest.raises(audio.AudioError, match=rf"speech {first}.*does not exist"):
        make_plan(speech, noise, "x", 0, (-5, 5))


def test_static_mixing_draws_again_where_the_noise_is_silent(tmp_path):
    """A noise clip that is all zeros (the DNS noise set has such clips): the planned draw is
    replaced by the entry's next deterministic redraw, as dynamic mixing would draw again."""
    from conftest import speechlike, write_wav
    from seslib.mixing import make_plan, read_source_dir, render_entry
    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    speech = {f"s{i}": write_wav(tmp_path / f"s{i}.wav", speechlike(rng, 1.5)) for i in range(6)}
    (src / "speech.scp").write_text("".join(f"{k} {p}\n" for k, p in sorted(speech.items())))
    zero = write_wav(tmp_path / "zeros_0.wav", np.zeros(16000, np.float32))
    loud = write_wav(tmp_path / "hiss_0.wav", (0.05 * rng.standard_normal(16000)).astype(np.float32))
    (src / "noise.scp").write_text(f"hiss {loud}\nzeros {zero}\n")
    sp, nz = read_source_dir(src)
    entries = make_plan(sp, nz, "t", seed=3, snr_range=(0.0, 0.0))
    silent = [e for e in entries if e["noise"] == "zeros"]
    assert silent, "the plan draws the silent clip for some utterance"
    for e in silent:
        _, _, _, done = render_entry(e)
        k = next(i for i, r in enumerate(e["noise_redraws"]) if r[0] == "hiss") + 1
        assert done["noise"] == "hiss" and done["noise_redrawn"] == k and abs(done["snr_realised_db"]) < 0.1
        assert done["noise_offset"] == e["noise_redraws"][k - 1][2]
    plan_of = {e["utt"]: e for e in make_plan(sp, nz, "t", seed=3, snr_range=(0.0, 0.0))}
    assert all(plan_of[e["utt"]] == e for e in entries)  # deterministic
