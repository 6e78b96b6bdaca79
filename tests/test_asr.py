"""WER arithmetic and text normalisation by hand; both offline recognisers on real synthetic speech."""
import csv

import pytest

from seslib import audio
from seslib.asr import normalize_text, word_errors
from seslib.asr_sphinx import phone_errors, reference_phones

SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.mark.parametrize("text, norm", [
    ("Hello, World!", "hello world"),
    ("state-of-the-art / well-known", "state of the art well known"),
    ("It's 'quoted' -- isn't it?", "it's quoted isn't it"),
    ("  many   spaces\tand\nlines ", "many spaces and lines"),
    ("Numbers 4 stay 4", "numbers 4 stay 4"),
])
def test_normalize_text(text, norm):
    assert normalize_text(text) == norm


def test_word_errors_by_hand():
    assert word_errors("the cat sat on the mat", "The cat sat on the mat.") == (0, 6)
    assert word_errors("the cat sat on the mat", "the cat sat on a mat") == (1, 6)          # 1 substitution
    assert word_errors("the cat sat on the mat", "the cat on the mat") == (1, 6)            # 1 deletion
    assert word_errors("the cat sat", "the the cat cat sat sat") == (3, 3)                  # insertions: WER 100 %
    assert word_errors("the cat sat", "") == (3, 3)                                         # all deleted
    assert word_errors("", "hello") == (1, 0)


def test_phone_errors_and_reference_phones_by_hand():
    lex = {"the": ["DH", "AH"], "cat": ["K", "AE", "T"]}
    assert reference_phones("The cat, the dog.", lex) == (["DH", "AH", "K", "AE", "T", "DH", "AH"], 1)
    assert phone_errors(["K", "AE", "T"], ["K", "AH", "T"]) == (1, 3)
    assert phone_errors(["K", "AE", "T"], []) == (3, 3)
    assert phone_errors(["K", "AE", "T"], ["K", "AE", "T", "S", "S"]) == (2, 3)


def test_corpus_wer_sums_errors_over_words(tmp_path):
    """Corpus WER = all errors / all reference words (not the mean of utterance WERs)."""
    from seslib.bin.score import COLUMNS, summarize
    (tmp_path / "split").mkdir()
    rows = [{"utt": "a", "pesq": 1.0, "stoi": 0.5, "si_sdr": 0.0, "word_errors": 1, "ref_words": 2, "pesq_error": "",
             "hypothesis": "x", "sphinx_word_errors": 2, "sphinx_phone_errors": 3, "ref_phones": 6},
            {"utt": "b", "pesq": 2.0, "stoi": 0.7, "si_sdr": 2.0, "word_errors": 1, "ref_words": 8, "pesq_error": "",
             "hypothesis": "y", "sphinx_word_errors": 0, "sphinx_phone_errors": 1, "ref_phones": 24}]
    with open(tmp_path / "split" / "scores.1.tsv", "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, delimiter="\t")
        w.writeheader()
        w.writerows(rows)
    s = summarize(tmp_path, 1, "x", None)
    assert s["wer"] == pytest.approx(100 * 2 / 10)  # the mean of utterance WERs would be 31.25
    assert s["wer_sphinx"] == pytest.approx(100 * 2 / 10) and s["per_sphinx"] == pytest.approx(100 * 4 / 30)
    assert s["pesq"] == pytest.approx(1.5) and "beam_size" in s["asr_decoding"]


@pytest.fixture(scope="module")
def fox(tmp_path_factory):
    from seslib.synth import tts
    out = tmp_path_factory.mktemp("asr") / "fox.wav"
    tts.synth_batch("piper_joe", [(SENTENCE, {"length_scale": 1.0, "noise_scale": 0.667, "noise_w_scale": 0.8},
                                   out)], seed=1)
    return audio.read_audio(out)


def test_whisper_and_sphinx_recognise_real_speech(fox):
    from seslib.asr import Recognizer
    from seslib.asr_sphinx import SphinxRecognizer
    e, n = word_errors(SENTENCE, Recognizer().transcribe(fox))
    assert n == 9 and e <= 1
    sphinx = SphinxRecognizer()
    e, n = word_errors(SENTENCE, sphinx.transcribe(fox))
    assert n == 9 and e <= 3
    ref, oov = reference_phones(SENTENCE, sphinx.lexicon)
    assert oov == 0 and ref[:3] == ["DH", "AH", "K"]
    hyp = sphinx.phone_sequence(fox)
    pe, pn = phone_errors(ref, hyp)
    # allphone decoding is coarse (about 50 % PER on clean speech), but it hears this sentence, not another
    other, _ = reference_phones("She sells sea shells by the sea shore every summer morning.", sphinx.lexicon)
    oe, on = phone_errors(other, hyp)
    assert pn == len(ref) and pe / pn < 0.7 and pe / pn < oe / on - 0.2
    # speech with its level scaled gives the same phones: the input is peak-normalised
    assert sphinx.phone_sequence(fox * 0.01) == sphinx.phone_sequence(fox)


def test_rank_agreement_of_an_error_rate_with_stoi():
    from seslib.recipe.report.wer import rank_agreement
    rows = [{"wer": 10.0, "stoi": 0.9}, {"wer": 20.0, "stoi": 0.8}, {"wer": 30.0, "stoi": 0.7}]
    assert rank_agreement(rows) == "ρ = +1.00 (3 rows)"
    assert rank_agreement([dict(r, wer=100 - r["wer"]) for r in rows]) == "ρ = -1.00 (3 rows)"
    assert rank_agreement(rows[:2]) == "–" and rank_agreement(rows, "per_sphinx") == "–"
    # one swapped pair out of three ranks: rho = 1 - 6 * 2 / (3 * 8) = 0.5
    assert rank_agreement([{"wer": 20.0, "stoi": 0.9}, {"wer": 10.0, "stoi": 0.8}, {"wer": 30.0, "stoi": 0.7}]) \
        == "ρ = +0.50 (3 rows)"
