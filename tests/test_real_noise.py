"""local/real_noise.py and local/real_voices.py: real recordings from Debian packages (here .deb files built with dpkg-deb)."""
import shutil
import subprocess
import sys

import numpy as np
import soundfile as sf

from conftest import RECIPE, ROOT, copy_recipe


def make_deb(root, name, files):
    """A real .deb of ``name`` holding ``files`` ({path in the package: (signal, rate, format), bytes, or the
    path of an earlier file to copy})."""
    tree = root / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(f"Package: {name}\nVersion: 1.0-1\nArchitecture: all\n"
                                             "Maintainer: t <t@example.org>\nDescription: test sounds\n")
    for rel, content in files.items():
        if isinstance(content, str):  # a copy of the file named
            shutil.copy(tree / content, tree / rel)
            continue
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (tree / rel).write_bytes(content)
        else:
            sf.write(str(tree / rel), content[0], content[1], format=content[2])
    deb = root / "debs" / f"{name}_1.0-1_all.deb"
    deb.parent.mkdir(exist_ok=True)
    subprocess.run(["dpkg-deb", "-b", "--root-owner-group", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def test_noise_list_from_packages(tmp_path):
    rng = np.random.default_rng(0)
    loud = lambda s, sr: (0.1 * rng.standard_normal(int(s * sr))).astype(np.float32)  # noqa: E731
    make_deb(tmp_path, "game-sounds", {
        "usr/share/game/sounds/engine_idle.wav": (loud(3, 44100), 44100, "WAV"),
        "usr/share/game/sounds/engine_idle.ogg": (loud(2, 44100), 44100, "OGG"),  # same stem, another file
        "usr/share/game/sounds/rain.ogg": (np.stack([loud(70, 22050)] * 2, 1), 22050, "OGG"),  # stereo, 70 s
        "usr/share/game/sounds/quiet.wav": (np.zeros(48000, np.float32), 48000, "WAV"),
        "usr/share/game/sounds/blip.wav": (loud(0.2, 16000), 16000, "WAV"),  # alone: joined, still < 1 s
        "usr/share/game/keys/k1.wav": (loud(0.4, 44100), 44100, "WAV"),  # key presses: joined into one sequence
        "usr/share/game/keys/k2.wav": (loud(0.4, 44100), 44100, "WAV"),
        "usr/share/game/keys/k3.wav": (loud(0.4, 44100), 44100, "WAV"),
        "usr/share/game/sounds/engine_idle_copy.wav": "usr/share/game/sounds/engine_idle.wav",  # read once
        "usr/share/game/images/hit.wav": (loud(2, 16000), 16000, "WAV"),  # not under the package's paths
    })
    make_deb(tmp_path, "game-music", {"usr/share/music/theme.ogg": (loud(5, 44100), 44100, "OGG")})
    conf = tmp_path / "noise.yaml"
    conf.write_text("""
packages:
  game-sounds: {licence: GPL-2+, category: machine, paths: [usr/share/game/sounds, usr/share/game/keys],
                rules: {rain: weather, /keys/: typing}}
  game-music: {licence: CC-BY-SA-3.0, category: music}
test_packages: [game-music]
""")
    out = tmp_path / "out"
    cmd = [sys.executable, str(RECIPE / "local" / "real_noise.py"), "--conf", str(conf), "--out", str(out),
           "--deb-dir", str(tmp_path / "debs")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    lines = (out / "noise_list.tsv").read_text().splitlines()
    head, rows = lines[0].split("\t"), [dict(zip(lines[0].split("\t"), ln.split("\t"))) for ln in lines[1:]]
    assert head == ["id", "path", "seconds", "category", "package", "licence", "split"]
    by_id = {r["id"]: r for r in rows}
    # the rain file: 70 s cut into 30 + 30 + 10 s; the silent and the lone 0.2 s file dropped; images/ not read
    keys = by_id.pop("game-sounds-usr_share_game_keys_joined-0")
    assert keys["category"] == "typing" and 1.35 <= float(keys["seconds"]) <= 2.7  # 3 x 0.4 s + 3 gaps
    assert sorted(by_id) == ["game-music-usr_share_music_theme_ogg-0", "game-sounds-usr_share_game_sounds_engine_idle_ogg-0",
                             "game-sounds-usr_share_game_sounds_engine_idle_wav-0",
                             "game-sounds-usr_share_game_sounds_rain_ogg-0", "game-sounds-usr_share_game_sounds_rain_ogg-1",
                             "game-sounds-usr_share_game_sounds_rain_ogg-2"]
    assert [by_id[f"game-sounds-usr_share_game_sounds_rain_ogg-{k}"]["seconds"] for k in range(3)] == ["30.00", "30.00", "10.00"]
    assert by_id["game-sounds-usr_share_game_sounds_rain_ogg-0"]["category"] == "weather"
    assert by_id["game-sounds-usr_share_game_sounds_engine_idle_wav-0"]["category"] == "machine"
    music = by_id["game-music-usr_share_music_theme_ogg-0"]
    assert music["split"] == "test" and music["licence"] == "CC-BY-SA-3.0" and music["category"] == "music"
    assert {r["split"] for r in rows if r["package"] == "game-sounds"} == {"train"}
    for r in rows:
        info = sf.info(r["path"])
        assert info.samplerate == 16000 and info.channels == 1
    unpacked = out / "unpacked" / "game-sounds" / "usr" / "share" / "game"
    assert sorted(p.name for p in unpacked.iterdir()) == ["keys", "sounds"]  # only the folders in paths
    before = {r["path"]: (out / r["path"]).stat().st_mtime_ns for r in rows}
    assert subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).returncode == 0  # rerun: files kept
    assert {r["path"]: (out / r["path"]).stat().st_mtime_ns for r in rows} == before
    conf.write_text(conf.read_text().replace("usr/share/game/keys]", "usr/share/game/kees]"))  # a typo in paths
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "game-sounds_1.0-1_all.deb: could not extract" in r.stderr and "kees" in r.stderr


def test_reserved_and_unknown_are_refused(tmp_path):
    for text, message in (("packages: {sonic-pi-samples: {licence: x, category: music}}", "reserved"),
                          ("packages: {a: {category: music}}", "needs a 'licence'"),
                          ("packages: {}\ntest_packages: [b]", "not among the packages"),
                          ("pakages: {}", "unknown keys ['pakages']")):
        conf = tmp_path / "c.yaml"
        conf.write_text(text)
        r = subprocess.run([sys.executable, str(RECIPE / "local" / "real_noise.py"), "--conf", str(conf),
                            "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 1 and message in r.stderr and str(conf) in r.stderr


def test_voice_list_by_speaker(tmp_path):
    """local/real_voices.py: speakers from the path, narrowband files left out, one person's two
    folders merged, G.722 prompts decoded, clips joined into utterances, test speakers apart."""
    import G722
    rng = np.random.default_rng(1)
    word = lambda sr: (0.1 * rng.standard_normal(int(0.8 * sr))).astype(np.float32)  # noqa: E731
    en = [word(44100) for _ in range(6)]
    files = {f"usr/share/kid/fr/w{k}.ogg": (word(44100), 44100, "OGG") for k in range(6)}
    files.update({f"usr/share/kid/{lang}/w{k}.wav": (en[k], 44100, "WAV") for lang in ("en", "en@x") for k in range(6)})
    files.update({f"usr/share/kid/de/w{k}.wav": (word(8000), 8000, "WAV") for k in range(6)})  # narrowband
    make_deb(tmp_path, "kid-data", files)
    prompt = lambda: G722.G722(16000, 64000).encode((word(16000) * 20000).astype(np.int16))  # noqa: E731
    make_deb(tmp_path, "pbx-sounds-en", {f"usr/share/pbx/{who}/p{k}.g722": prompt()
                                         for who in ("en_US_f_Ann", "es_MX_f_Ann") for k in range(4)})
    conf = tmp_path / "voices.yaml"
    conf.write_text("""
max_seconds: 3.0
min_seconds: 1.5
packages:
  kid-data: {licence: GPL-2+, speaker: 'kid/([^/]+)/'}
  pbx-sounds-en: {licence: CC-BY-SA-3.0, speaker: 'pbx/([^/]+)/'}
same_speaker: {pbx_es_MX_f_Ann: pbx_en_US_f_Ann}
test_speakers: [kid_fr]
""")
    out = tmp_path / "out"
    cmd = [sys.executable, str(RECIPE / "local" / "real_voices.py"), "--conf", str(conf), "--out", str(out),
           "--deb-dir", str(tmp_path / "debs")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "kid-data: 12 clips (6 narrowband left out, 6 copies)" in r.stdout  # en@x: the same recordings as en
    lines = (out / "voice_list.tsv").read_text().splitlines()
    rows = [dict(zip(lines[0].split("\t"), ln.split("\t"))) for ln in lines[1:]]
    by_spk = {}
    for row in rows:
        by_spk.setdefault(row["speaker"], []).append(row)
    assert sorted(by_spk) == ["kid_en", "kid_fr", "pbx_en_US_f_Ann"]  # German: narrowband; en@x: copies; Ann once
    assert len(by_spk["pbx_en_US_f_Ann"]) >= 2  # 8 prompts of 0.8 s from both folders, utterances of <= 3 s
    assert {r["split"] for r in by_spk["kid_fr"]} == {"test"} and {r["split"] for r in by_spk["kid_en"]} == {"train"}
    assert all(1.5 <= float(r["seconds"]) <= 3.0 for r in rows)
    assert {r["licence"] for r in by_spk["pbx_en_US_f_Ann"]} == {"CC-BY-SA-3.0"}
    assert all(sf.info(r["path"]).samplerate == 16000 for r in rows)
    conf.write_text(conf.read_text().replace("test_speakers: [kid_fr]", "test_speakers: [kid_it]"))
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "test_speakers ['kid_it'] are not among the speakers found" in r.stderr


def test_recipe_mixes_real_sources_and_holds_out_test_real(tmp_path, env):
    """Stage 0-1 of run.sh with real sources (.deb files placed where data.sh looks first):
    real noise and voices join training, test_real (and its 0 / +5 dB copies) pairs the held-out
    speaker with the held-out noise package only, and nothing held out reaches train or valid."""
    from seslib.data import read_plan
    rec = copy_recipe(tmp_path / "rec")
    rng = np.random.default_rng(2)
    loud = lambda s: (0.1 * rng.standard_normal(int(s * 16000))).astype(np.float32)  # noqa: E731
    make_deb(tmp_path, "hum-sounds", {f"usr/share/hum/{n}.wav": (loud(4), 16000, "WAV") for n in ("fan", "drill")})
    make_deb(tmp_path, "rain-sounds", {f"usr/share/rain/{n}.ogg": (loud(4), 16000, "OGG") for n in ("storm", "drip")})
    make_deb(tmp_path, "kid-words", {f"usr/share/kid/{lang}/w{k}.wav": (loud(0.8), 16000, "WAV")
                                     for lang in ("en", "fr", "de") for k in range(8)})
    debs = rec / "data" / "local" / "real" / "debs"
    shutil.copytree(tmp_path / "debs", debs)
    (rec / "conf" / "noise_t.yaml").write_text(
        "packages:\n  hum-sounds: {licence: GPL-2+, category: machine}\n"
        "  rain-sounds: {licence: CC-BY-3.0, category: weather}\ntest_packages: [rain-sounds]\n")
    (rec / "conf" / "voices_t.yaml").write_text(
        "max_seconds: 3.0\nmin_seconds: 1.5\npackages:\n  kid-words: {licence: GPL-2+, speaker: 'kid/([^/]+)/'}\n"
        "test_speakers: [kid_de]\n")
    (rec / "conf" / "data_t.yaml").write_text((ROOT / "tests" / "conf" / "data_mini_tiny.yaml").read_text() + (
        "real_noise: {conf: conf/noise_t.yaml, per_category: {train: 1, valid: 1, test: 2}}\n"
        "real_voices: {conf: conf/voices_t.yaml, utterances: {train: 3, valid: 1, test_real: 2}}\n"))
    args = ["./run.sh", "--stage", "0", "--stop-stage", "1", "--mini-conf", "conf/data_t.yaml", "--nj", "2",
            "--test-snrs", "0 5"]
    r = subprocess.run(args, cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    plans = {s: read_plan(rec / "data" / s / "mix_plan.jsonl") for s in
             ("train", "valid", "test", "test_real", "test_real_snr0", "test_real_snr5")}
    real = lambda s, what: {e[what] for e in plans[s].values() if "/real/" in e[what]}  # noqa: E731
    assert {e["spk"] for e in plans["test_real"].values()} == {"kid_de"} and len(plans["test_real"]) == 2
    assert all("/rain-sounds/" in e["noise_path"] for e in plans["test_real"].values())
    assert all(e["snr_db"] == -5 for e in plans["test_real"].values())
    assert plans["test_real_snr0"].keys() == plans["test_real"].keys()
    assert all(e["snr_db"] == 5 for e in plans["test_real_snr5"].values())
    for s in ("train", "valid"):  # the held-out speaker and noise package never reach training or validation
        assert not {p for p in real(s, "noise_path") if "/rain-sounds/" in p}
        assert "kid_de" not in {e["spk"] for e in plans[s].values()}
    assert {e["spk"] for e in plans["train"].values()} & {"kid_en", "kid_fr"}
    assert not (rec / "data" / "test_real" / "text").exists() and (rec / "data" / "test" / "text").is_file()
    # the source configs are stage inputs: a changed licence rebuilds stage 0
    conf = rec / "conf" / "noise_t.yaml"
    conf.write_text(conf.read_text().replace("CC-BY-3.0", "CC-BY-SA-3.0"))
    r = subprocess.run(args[:4] + ["0"] + args[5:], cwd=rec, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "inputs or config changed" in r.stdout, r.stdout[-2000:]
    assert "CC-BY-SA-3.0" in (rec / "data" / "local" / "real" / "noise" / "noise_list.tsv").read_text()
