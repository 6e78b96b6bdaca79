"""Data-dir validation, fixing, scp split/merge, and their error messages."""

import pytest

from seslib.bin import data_dir as data_dir_cli
from seslib.bin import mix_data
from seslib.data import (DataDirError, fix_data_dir, merge_scp, read_kv, split_scp,
                         validate_data_dir)


@pytest.fixture
def good_dir(source_dir, tmp_path):
    out = tmp_path / "data"
    assert mix_data.main(["all", "--sources", str(source_dir), "--out", str(out), "--tag", "t", "--quiet"]) == 0
    assert validate_data_dir(out, check_audio="header") == []
    return out


def _lines(p):
    return p.read_text().splitlines(keepends=True)


def test_rejects_unsorted(good_dir):
    p = good_dir / "utt2spk"
    lines = _lines(p)
    p.write_text("".join([lines[1], lines[0]] + lines[2:]))
    assert any("not sorted" in m and "utt2spk" in m for m in validate_data_dir(good_dir))


def test_rejects_duplicate_keys(good_dir):
    p = good_dir / "wav.scp"
    lines = _lines(p)
    p.write_text("".join(lines[:1] + lines))
    probs = validate_data_dir(good_dir)
    key = lines[0].split()[0]
    assert any("duplicate key" in m and key in m and "wav.scp:2" in m for m in probs)


def test_rejects_files_that_disagree(good_dir):
    p = good_dir / "spk1.scp"
    p.write_text("".join(_lines(p)[1:]))
    assert any("spk1.scp" in m and "differ" in m for m in validate_data_dir(good_dir))


def test_rejects_missing_audio(good_dir):
    utt, path = _lines(good_dir / "noise1.scp")[2].split()
    from pathlib import Path
    Path(path).unlink()
    assert any(utt in m and "does not exist" in m for m in validate_data_dir(good_dir))


def test_rejects_wrong_length_and_bad_spk2utt(good_dir):
    p = good_dir / "utt2num_samples"
    lines = _lines(p)
    utt = lines[0].split()[0]
    p.write_text(f"{utt} 17\n" + "".join(lines[1:]))
    (good_dir / "spk2utt").write_text("nobody x\n")
    probs = validate_data_dir(good_dir, check_audio="header")
    assert any(utt in m and "utt2num_samples says 17" in m for m in probs)
    assert any("spk2utt" in m and "does not agree" in m for m in probs)


def test_rejects_speaker_order_violation(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "wav.scp").write_text("a x\nb y\n")
    (d / "utt2spk").write_text("a s2\nb s1\n")
    (d / "spk2utt").write_text("s1 b\ns2 a\n")
    probs = validate_data_dir(d, check_audio="none")
    assert any("sorting by speaker" in m for m in probs)


def test_missing_required_file(tmp_path):
    (tmp_path / "wav.scp").write_text("a x\n")
    assert any("utt2spk" in m and "missing" in m for m in validate_data_dir(tmp_path))


def test_fix_repairs_a_broken_dir(good_dir):
    keys = list(read_kv(good_dir / "wav.scp"))
    p = good_dir / "text"
    lines = _lines(p)
    p.write_text("".join(reversed(lines[1:])))  # unsorted and one utterance missing
    (good_dir / "spk2utt").write_text("stale x\n")
    assert validate_data_dir(good_dir) != []
    r = fix_data_dir(good_dir)
    assert r == {"kept": len(keys) - 1, "removed": 1}
    assert validate_data_dir(good_dir, check_audio="header") == []
    assert (good_dir / ".backup" / "text").is_file()


def test_fix_with_utt_list_and_cli(good_dir, tmp_path, capsys):
    keys = list(read_kv(good_dir / "wav.scp"))
    lst = tmp_path / "keep"
    lst.write_text("\n".join(keys[:2]) + "\n")
    assert data_dir_cli.main(["fix", str(good_dir), "--utt-list", str(lst)]) == 0
    assert list(read_kv(good_dir / "wav.scp")) == keys[:2]
    assert data_dir_cli.main(["validate", str(good_dir), "--check-audio", "header"]) == 0
    (good_dir / "utt2spk").write_text("zzz a\n")
    assert data_dir_cli.main(["validate", str(good_dir)]) == 1
    assert "utt2spk" in capsys.readouterr().err


def test_fix_refuses_conflicting_duplicates(good_dir):
    p = good_dir / "utt2spk"
    utt = _lines(p)[0].split()[0]
    p.write_text(p.read_text() + f"{utt} someone_else\n")
    with pytest.raises(DataDirError, match=f"'{utt}' appears twice"):
        fix_data_dir(good_dir)


def test_split_merge_roundtrip(tmp_path):
    scp = tmp_path / "in.scp"
    scp.write_text("".join(f"u{i:03d} /p/{i}.wav\n" for i in range(10)))
    parts = [tmp_path / f"part.{j}.scp" for j in range(1, 4)]
    split_scp(scp, parts)
    sizes = [len(p.read_text().splitlines()) for p in parts]
    assert sum(sizes) == 10 and max(sizes) - min(sizes) <= 1
    merge_scp(parts, tmp_path / "out.scp")
    assert (tmp_path / "out.scp").read_text() == scp.read_text()
    with pytest.raises(DataDirError, match="duplicate key 'u000'"):
        merge_scp([parts[0], parts[0]], tmp_path / "bad.scp")
    with pytest.raises(DataDirError, match="cannot be split into 11"):
        split_scp(scp, [tmp_path / f"x{j}" for j in range(11)])


def test_read_kv_errors_name_file_line_and_key(tmp_path):
    p = tmp_path / "wav.scp"
    p.write_text("a /x\nb\n")
    with pytest.raises(DataDirError, match=r"wav\.scp:2: key 'b' has no value"):
        read_kv(p)


def test_empty_set_is_an_error(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    for name in ("wav.scp", "spk1.scp", "utt2spk", "spk2utt"):
        (d / name).write_text("")
    assert validate_data_dir(d, "exists", ["spk1.scp"]) == [f"{d / 'wav.scp'}: no utterances (an empty set cannot "
                                                             "be trained on, enhanced or scored)"]


def test_ids_with_spaces_are_named(good_dir):
    lines = _lines(good_dir / "wav.scp")
    utt, path = lines[0].split()
    (good_dir / "wav.scp").write_text(f"my {utt} {path}\nmy {lines[1].split()[0]} {lines[1].split()[1]}\n")
    with pytest.raises(DataDirError, match=r"duplicate key 'my' \(an id with a space in it\?"):
        read_kv(good_dir / "wav.scp")
    (good_dir / "wav.scp").write_text(f"my {utt} {path}\n")
    assert any("is 'my " in m and "ids must not contain whitespace" in m for m in validate_data_dir(good_dir))


def test_header_check_compares_pairs_without_lengths(good_dir):
    """Without utt2num_samples the clean speech must still match the noisy audio at 16 kHz."""
    (good_dir / "utt2num_samples").unlink()
    assert validate_data_dir(good_dir, "header") == []
    utt, noisy = _lines(good_dir / "wav.scp")[0].split()
    clean = read_kv(good_dir / "spk1.scp")[utt]
    import soundfile as sf
    x, sr = sf.read(clean)
    sf.write(clean, x[:-160], sr)  # 10 ms shorter: after a careless trim, say
    probs = validate_data_dir(good_dir, "header")
    assert any(utt in m and "spk1.scp" in m and "the noisy wav.scp audio has" in m for m in probs)
