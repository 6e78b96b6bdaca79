"""DNSMOS (seslib.dnsmos) against the speechmos package's own scorer, on real synthetic speech, and
scoring without a reference (seslib.bin.score --hyp FOLDER, with and without --text)."""
import json

import numpy as np
import pytest

from seslib import audio
from seslib.bin import score
from seslib.dnsmos import DNSMOS

SENTENCES = ["The quick brown fox jumps over the lazy dog.", "She sells sea shells by the sea shore today."]


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Two sentences read by the bundled piper voice, and the same in white noise at 0 dB."""
    from seslib.synth import tts
    tmp = tmp_path_factory.mktemp("dnsmos")
    opts = {"length_scale": 1.0, "noise_scale": 0.667, "noise_w_scale": 0.8}
    tts.synth_batch("piper_joe", [(s, opts, tmp / "clean" / f"u{i}.wav") for i, s in enumerate(SENTENCES)], seed=1)
    rng = np.random.default_rng(0)
    for i in range(len(SENTENCES)):
        x = audio.read_audio(tmp / "clean" / f"u{i}.wav")
        n = rng.standard_normal(len(x)).astype(np.float32)
        y = x + n * np.sqrt(np.mean(x ** 2) / np.mean(n ** 2))
        audio.write_audio(tmp / "noisy" / "sub" / f"u{i}.wav", audio.to_int16(y / max(1.0, np.abs(y).max())))
    (tmp / "text").write_text("".join(f"sub/u{i} {s}\n" for i, s in enumerate(SENTENCES)))
    return tmp


def test_same_numbers_as_speechmos(speech):
    """The thin wrapper builds its own one-thread sessions; the scores are the package's."""
    from speechmos import dnsmos as sm
    x = audio.read_audio(speech / "noisy" / "sub" / "u0.wav")
    ours, theirs = DNSMOS(threads=1)(x), sm.run(x, 16000)
    assert ours == {"sig": theirs["sig_mos"], "bak": theirs["bak_mos"], "ovrl": theirs["ovrl_mos"],
                    "p808": theirs["p808_mos"]}


def test_clean_speech_beats_noisy_and_out_of_range_is_clipped(speech):
    mos = DNSMOS()
    for i in range(len(SENTENCES)):
        c = mos(audio.read_audio(speech / "clean" / f"u{i}.wav"))
        n = mos(audio.read_audio(speech / "noisy" / "sub" / f"u{i}.wav"))
        assert c["bak"] > n["bak"] + 1 and c["ovrl"] > n["ovrl"] + 0.5, (c, n)
        assert all(1 <= v <= 5 for v in (*c.values(), *n.values()))
    x = audio.read_audio(speech / "clean" / "u0.wav")
    loud = 3 * x / np.abs(x).max()  # a float output beyond full scale: scored as its 16-bit file would be
    assert mos(loud) == mos(np.clip(loud, -1, 1))
    with pytest.raises(ValueError, match="empty"):
        mos(np.zeros(0, np.float32))


def test_score_a_folder_without_reference(speech, tmp_path, caplog):
    out = tmp_path / "noisy"
    assert score.main(["--hyp", str(speech / "noisy"), "--out", str(out), "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["utterances"] == 2 and "pesq" not in s and "wer" not in s and "speechmos" in s["dnsmos_model"]
    rows = (out / "scores.tsv").read_text().splitlines()
    assert rows[1].startswith("sub/u0\t") and rows[2].startswith("sub/u1\t")  # keys: paths below the folder
    per_utt = DNSMOS()(audio.read_audio(speech / "noisy" / "sub" / "u0.wav"))
    assert float(rows[1].split("\t")[-2]) == pytest.approx(per_utt["ovrl"])
    # with a transcript: WER too, in two jobs; the same DNSMOS
    out2 = tmp_path / "noisy_text"
    assert score.main(["--hyp", str(speech / "noisy"), "--text", str(speech / "text"), "--out", str(out2), "--nj", "2",
                       "--quiet"]) == 0
    s2 = json.loads((out2 / "summary.json").read_text())
    assert s2["ref_words"] == sum(len(t.split()) for t in SENTENCES) and "wer" in s2
    assert s2["dnsmos_ovrl"] == pytest.approx(s["dnsmos_ovrl"])
    # the clean folder's mean is higher (summary means of the per-utterance scores)
    out3 = tmp_path / "clean"
    assert score.main(["--hyp", str(speech / "clean"), "--out", str(out3), "--quiet"]) == 0
    assert json.loads((out3 / "summary.json").read_text())["dnsmos_bak"] > s["dnsmos_bak"]


def test_score_without_reference_errors(speech, tmp_path, caplog):
    base = ["--hyp", str(speech / "noisy"), "--out", str(tmp_path / "o")]
    assert score.main(base + ["--no-dnsmos"]) == 1
    assert "nothing to score" in caplog.text
    assert score.main(base + ["--text", str(tmp_path / "missing")]) == 1
    assert "--text" in caplog.text and "does not exist" in caplog.text
    (tmp_path / "short_text").write_text("sub/u0 hello\n")
    assert score.main(base + ["--text", str(tmp_path / "short_text")]) == 1
    assert "no transcript of 1 utterances (first: sub/u1)" in caplog.text
    (tmp_path / "empty").mkdir()
    assert score.main(["--hyp", str(tmp_path / "empty"), "--out", str(tmp_path / "o2")]) == 1
    assert "no audio files" in caplog.text
    assert not (tmp_path / "o").exists() and not (tmp_path / "o2").exists()
