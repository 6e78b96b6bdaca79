"""Build the speech and noise sources of a synthetic corpus, offline.

Speech: English sentences (seslib.synth.text) read by the offline TTS voices installed
here (seslib.synth.tts). Noise: procedural families (seslib.synth.noise), babble made of
synthesised utterances that are never targets. Train, valid and test use disjoint
sentences; test noise instances (and their babble talkers) are disjoint from
train/valid ones.

Voices: ``voices`` read train, valid and test; ``heldout_voices`` (a subset of ``voices``)
never occur in train, valid, test or babble and read a second test set, ``test_heldout``
(``sizes.test_heldout`` utterances, test noise), which measures how the enhancer does on
voices it has never heard; ``train_only_voices`` (e.g. espeak-ng's, which Whisper cannot
transcribe) add voice variety to train and valid only, never to a test set.

Real recordings (optional; lists written by a recipe's own tools, e.g. egs/dns_wav2vec2/local/
real_noise.py and real_voices.py): ``real_noise`` draws ``per_category[set]`` (times the category's
``weights``, default 1) files of each category of a noise list (TSV: id, path, seconds, category,
package, licence, split) and adds them to the procedural families: train and valid from split
``train`` (disjoint files), test from split ``test`` only. ``real_voices`` draws utterances of a
voice list (TSV: id, path, seconds, speaker, package, licence, split), speaker-balanced: train and
valid from split ``train``, and the set ``test_real`` (``utterances.test_real``) from split ``test``,
mixed with the real test noise only. Real speech has no transcript (no WER). The TTS and procedural
part of the plan is drawn before and apart from the real part: adding real sources changes neither.

Sub-commands (a recipe runs ``speech`` and ``noise`` as parallel jobs):

  plan      draw what to synthesise from the config's seed -> OUT/synth_plan.json
            (--real-noise LIST, --real-voices LIST: the lists the config's real_* keys draw from)
  real-confs  print the config's real_noise.conf and real_voices.conf ("-" when absent), for the recipe
  speech    synthesise this job's share of the speech shards (resumes after a kill)
  noise     generate this job's share of the noise instances (after all speech jobs)
  finalize  check every file, write source dirs OUT/{train,valid,test}/ and OUT/summary.json
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np
import yaml

from .. import audio, logutil
from ..data import write_kv
from ..fileutil import atomic_write_text
from ..synth import noise as noise_lib
from ..synth import text as text_lib
from ..synth import tts

log = logging.getLogger("seslib.synth_sources")
SETS = ("train", "valid", "test")        # sets with their own noise instances
SPEECH_SETS = SETS + ("test_heldout", "test_real")   # sets with speech
NOISE_OF = {"train": "train", "valid": "valid", "test": "test", "test_heldout": "test", "test_real": "real-test"}

DEFAULTS = {
    "seed": 1,
    "sizes": {"train": 1400, "valid": 120, "test": 250, "test_heldout": 0},
    "sentences_per_utt": [1, 2],
    "babble_utts": 80,
    "noise_per_family": {"train": 8, "valid": 2, "test": 4},
    "noise_seconds": 20.0,
    "families": list(noise_lib.FAMILIES),
    "voices": list(tts.VOICES),
    "voice_weights": {"piper_joe": 3.0},
    "heldout_voices": [],
    "train_only_voices": [],
    "shard_size": 40,
    "real_noise": None,    # {conf, per_category: {train, valid, test}, weights: {category: w}}
    "real_voices": None,   # {conf, utterances: {train, valid, test_real}}
}
REAL_KEYS = {"real_noise": {"conf", "per_category", "weights"}, "real_voices": {"conf", "utterances"}}


def load_config(path) -> dict:
    """Read a YAML corpus config over :data:`DEFAULTS`; unknown keys are an error."""
    cfg = json.loads(json.dumps(DEFAULTS))
    if path:
        with open(path, encoding="utf-8") as f:
            user = yaml.safe_load(f) or {}
        if "test_voices" in user:
            raise ValueError(f"{path}: 'test_voices' is now 'heldout_voices' (voices of the test_heldout set only)")
        unknown = set(user) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        cfg.update(user)
        cfg["sizes"] = dict(DEFAULTS["sizes"], **(user.get("sizes") or {}))
    bad = set(cfg["families"]) - set(noise_lib.FAMILIES)
    if bad:
        raise ValueError(f"unknown noise families {sorted(bad)}; known: {sorted(noise_lib.FAMILIES)}")
    bad = set(cfg["voices"] + cfg["train_only_voices"]) - set(tts.VOICES)
    if bad:
        raise ValueError(f"unknown voices {sorted(bad)}; known: {sorted(tts.VOICES)}")
    if set(cfg["heldout_voices"]) - set(cfg["voices"]):
        raise ValueError(f"heldout_voices {sorted(set(cfg['heldout_voices']) - set(cfg['voices']))} are not in voices")
    if set(cfg["train_only_voices"]) & set(cfg["voices"]):
        raise ValueError("a voice cannot be in both voices and train_only_voices")
    for key, known in REAL_KEYS.items():
        if cfg[key] is not None and (not isinstance(cfg[key], dict) or set(cfg[key]) - known):
            raise ValueError(f"{path}: {key} takes the keys {sorted(known)}, not {cfg[key]!r}")
    for key, sets in (("real_noise", ("train", "valid", "test")), ("real_voices", ("train", "valid", "test_real"))):
        counts = (cfg[key] or {}).get("per_category" if key == "real_noise" else "utterances") or {}
        if set(counts) - set(sets):
            raise ValueError(f"{path}: {key}: counts for {sorted(set(counts) - set(sets))}; sets: {list(sets)}")
    return cfg


def read_list(path, kind: str, columns: tuple) -> list[dict]:
    """Rows of a real-source list (TSV with a header), sorted by id; errors name the file."""
    import csv
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {kind} list (the recipe's stage 0 writes it)")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    missing = set(columns) - set(rows[0] if rows else columns)
    if missing:
        raise ValueError(f"{path}: {kind} list lacks the columns {sorted(missing)}")
    bad = [r["id"] for r in rows if r["split"] not in ("train", "test")]
    if bad:
        raise ValueError(f"{path}: split must be train or test (first bad row: {bad[0]})")
    return sorted(rows, key=lambda r: r["id"])


def plan_real_noise(rows: list[dict], spec: dict, rng) -> list[dict]:
    """Noise entries drawn per category from a real noise list (see the module docstring)."""
    n = spec.get("per_category") or {}
    weights = spec.get("weights") or {}
    unknown = set(weights) - {r["category"] for r in rows}
    if unknown:
        raise ValueError(f"real_noise.weights: categories {sorted(unknown)} are not in the noise list")
    out = []
    for split, sets in (("train", ("train", "valid")), ("test", ("test",))):
        for cat in sorted({r["category"] for r in rows if r["split"] == split}):
            pool = [r for r in rows if r["split"] == split and r["category"] == cat]
            order = rng.permutation(len(pool))
            pos = 0
            for set_name in sets:
                k = round(n.get(set_name, 0) * weights.get(cat, 1.0))
                picks = [pool[i] for i in order[pos:pos + k]]
                pos += len(picks)
                if len(picks) < k:
                    log.info("real noise: %s has %d %s files for %s (asked %d)", split, len(picks), cat, set_name, k)
                cid = cat.replace("-", "_")
                out += [{"id": f"real_{cid}-{set_name}-{j:03d}", "set": set_name, "family": f"real:{cat}",
                         "path": r["path"], "source": r["id"], "package": r["package"]} for j, r in enumerate(picks)]
    return out


def _balanced(rows: list[dict], n: int, rng) -> list[dict]:
    """``n`` rows without replacement, each from a speaker drawn uniformly (speaker-balanced)."""
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r["speaker"], []).append(r)
    for spk in by:
        by[spk] = [by[spk][i] for i in rng.permutation(len(by[spk]))]
    spks, out = sorted(by), []
    while len(out) < n and spks:
        s = spks[int(rng.integers(len(spks)))]
        out.append(by[s].pop())
        if not by[s]:
            spks.remove(s)
    return out


def plan_real_voices(rows: list[dict], spec: dict, rng) -> list[dict]:
    """Speech entries drawn from a real voice list (see the module docstring)."""
    n = spec.get("utterances") or {}
    want = {s: int(n.get(s, 0)) for s in ("train", "valid", "test_real")}
    seen = _balanced([r for r in rows if r["split"] == "train"], want["train"] + want["valid"], rng)
    held = _balanced([r for r in rows if r["split"] == "test"], want["test_real"], rng)
    sets = {"valid": seen[:want["valid"]], "train": seen[want["valid"]:], "test_real": held}
    for s, picks in sets.items():
        if len(picks) < want[s]:
            log.warning("real voices: %d utterances for %s (asked %d)", len(picks), s, want[s])
    return [{"id": f"{r['speaker']}-{s}-{k:05d}", "set": s, "voice": f"real:{r['package']}", "spk": r["speaker"],
             "text": None, "path": r["path"], "source": r["id"]} for s, picks in sets.items() for k, r in enumerate(picks)]


def make_synth_plan(cfg: dict, available: dict[str, str], real_noise=None, real_voices=None) -> dict:
    """Decide every utterance (voice, parameters, text) and noise instance from the seed.

    Args:
        real_noise, real_voices: rows of the real-source lists (:func:`read_list`), needed when the
            config asks for them.
    """
    def usable(names):
        for v in names:
            if available.get(v) != "ok":
                log.warning("voice %s skipped: %s", v, available.get(v))
        return [v for v in names if available.get(v) == "ok"]
    voices, extra = usable(cfg["voices"]), usable(cfg["train_only_voices"])
    held = [v for v in cfg["heldout_voices"] if v in voices]
    seen = [v for v in voices if v not in held]
    if not seen:
        raise RuntimeError("no TTS voice for train/valid/test is available (all held out or missing); "
                           "run tools/install.sh")
    if cfg["sizes"]["test_heldout"] and not held:
        log.warning("none of the heldout_voices %s is available here: no test_heldout set", cfg["heldout_voices"])
    voice_sets = {"train": seen + extra, "valid": seen + extra, "test": seen, "babble": seen,
                  "test_heldout": held}

    rng = np.random.default_rng(cfg["seed"])
    sentences = text_lib.load_sentences()
    order = rng.permutation(len(sentences))
    lo, hi = cfg["sentences_per_utt"]
    wanted = {"test": cfg["sizes"]["test"], "valid": cfg["sizes"]["valid"], "babble": cfg["babble_utts"],
              "train": cfg["sizes"]["train"], "test_heldout": cfg["sizes"]["test_heldout"] if held else 0}
    need = sum(n * hi for n in wanted.values())
    if need > len(sentences):
        raise ValueError(f"config needs up to {need} sentences, the source has {len(sentences)}")
    speech, pos = [], 0
    for set_name in ("test", "valid", "babble", "train", "test_heldout"):  # fixed order: pools are disjoint
        vs = voice_sets[set_name]
        w = np.array([cfg["voice_weights"].get(v, 1.0) for v in vs], dtype=float)
        for k in range(wanted[set_name]):
            m = int(rng.integers(lo, hi + 1))
            text = " ".join(sentences[i] for i in order[pos:pos + m])
            pos += m
            voice = vs[int(rng.choice(len(vs), p=w / w.sum()))]
            speech.append({"id": f"{voice}-{set_name}-{k:05d}", "set": set_name, "voice": voice,
                           "spk": voice, "text": text, "params": tts.sample_params(voice, rng)})
    speech.sort(key=lambda e: e["id"])
    shards = []
    for voice in voices + extra:
        ids = [e["id"] for e in speech if e["voice"] == voice]
        for k in range(0, len(ids), cfg["shard_size"]):
            shards.append({"name": f"{voice}.{k // cfg['shard_size']:04d}", "voice": voice,
                           "seed": int(rng.integers(2**31)), "ids": ids[k:k + cfg["shard_size"]]})
    noises = []
    for set_name in SETS:
        for fam in cfg["families"]:
            for k in range(cfg["noise_per_family"][set_name]):
                noises.append({"id": f"{fam}-{set_name}-{k:03d}", "set": set_name, "family": fam,
                               "seed": int(rng.integers(2**31)), "seconds": cfg["noise_seconds"]})
    real_rng = np.random.default_rng([cfg["seed"], 2])  # apart: the part above stays as it was
    for key, rows, draw, into in (("real_noise", real_noise, plan_real_noise, noises),
                                  ("real_voices", real_voices, plan_real_voices, speech)):
        if cfg[key] is not None:
            if rows is None:
                raise ValueError(f"the config asks for {key}: give its list (--{key.replace('_', '-')})")
            into += draw(rows, cfg[key], real_rng)
    speech.sort(key=lambda e: e["id"])
    return {"config": cfg, "voices": voices + extra, "voice_sets": voice_sets,
            "text_source": text_lib.SOURCE_NAME, "speech": speech, "shards": shards, "noise": noises}


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _stale_files(old: dict, new: dict) -> list[str]:
    """Ids of synthesised files whose plan changed: speech of a changed shard (voice, seed, ids or an
    entry of it), noise whose entry changed. Files of real recordings are not ours to remove."""
    def shards(plan):
        by_id = {e["id"]: e for e in plan["speech"]}
        return {sh["name"]: (sh, [by_id.get(i) for i in sh["ids"]]) for sh in plan["shards"]}
    was, now = shards(old), shards(new)
    stale = [i for name, (sh, _) in was.items() if was[name] != now.get(name) for i in sh["ids"]]
    noise_now = {e["id"]: e for e in new["noise"]}
    return stale + [e["id"] for e in old["noise"] if "path" not in e and noise_now.get(e["id"]) != e]


def cmd_plan(out: Path, cfg: dict, real_noise=None, real_voices=None) -> None:
    lists = {"real_noise": (real_noise, "noise", ("id", "path", "category", "package", "split")),
             "real_voices": (real_voices, "voice", ("id", "path", "speaker", "package", "split"))}
    rows = {k: read_list(path, kind, cols) if path else None for k, (path, kind, cols) in lists.items()}
    plan = make_synth_plan(cfg, tts.available_voices(), rows["real_noise"], rows["real_voices"])
    path = out / "synth_plan.json"
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if _digest(old) == _digest(plan):
            log.info("%s unchanged", path)
            return
        stale = _stale_files(old, plan)
        log.info("%s changed: removing %d synthesised files whose plan changed", path, len(stale))
        for i in stale:
            for d in ("speech", "noise"):
                (out / d / f"{i}.wav").unlink(missing_ok=True)
    atomic_write_text(path, json.dumps(plan, indent=1, sort_keys=True))
    n = {s: sum(e["set"] == s for e in plan["speech"]) for s in SPEECH_SETS + ("babble",)}
    real = sum("path" in e for e in plan["noise"])
    log.info("planned speech %s with voices %s (%d utterances of real voices); %d noise instances of %d families "
             "and %d real noises", n, plan["voices"], sum("path" in e for e in plan["speech"]),
             len(plan["noise"]) - real, len(cfg["families"]), real)


def _load_plan(out: Path) -> dict:
    path = out / "synth_plan.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run the 'plan' step first")
    return json.loads(path.read_text(encoding="utf-8"))


def cmd_speech(out: Path, job: int, nj: int, progress: bool) -> None:
    from tqdm import tqdm

    plan = _load_plan(out)
    by_id = {e["id"]: e for e in plan["speech"]}
    mine = plan["shards"][job - 1::nj]
    todo = [s for s in mine if not all((out / "speech" / f"{i}.wav").is_file() for i in s["ids"])]
    log.info("job %d: %d of %d speech shards to do", job, len(todo), len(mine))
    with tqdm(total=sum(len(s["ids"]) for s in todo), desc=f"tts job {job}", disable=not progress,
              mininterval=5, unit="utt") as bar:
        for shard in todo:
            items = [(by_id[i]["text"], by_id[i]["params"], out / "speech" / f"{i}.wav") for i in shard["ids"]]
            tts.synth_batch(shard["voice"], items, shard["seed"], on_item=lambda: bar.update(1))


def cmd_noise(out: Path, job: int, nj: int, progress: bool) -> None:
    from tqdm import tqdm

    plan = _load_plan(out)
    mine = [e for e in plan["noise"] if "path" not in e][job - 1::nj]  # real noise is read where it is
    todo = [e for e in mine if not (out / "noise" / f"{e['id']}.wav").is_file()]
    log.info("job %d: %d of %d noise instances to do", job, len(todo), len(mine))
    babble = [e for e in plan["speech"] if e["set"] == "babble"]
    # first half of the babble talkers for train/valid noise, second half for test noise
    pools = {"train": babble[: len(babble) // 2], "valid": babble[: len(babble) // 2],
             "test": babble[len(babble) // 2:]}
    cache: dict[str, list] = {}
    for e in tqdm(todo, desc=f"noise job {job}", disable=not progress, mininterval=5):
        talkers = ()
        if e["family"] == "babble":
            if e["set"] not in cache:
                cache[e["set"]] = [audio.read_audio(out / "speech" / f"{b['id']}.wav", utt=b["id"])
                                   for b in pools[e["set"]]]
            talkers = cache[e["set"]]
        x = noise_lib.make_noise(e["family"], e["seed"], e["seconds"], babble_speech=talkers)
        audio.write_audio(out / "noise" / f"{e['id']}.wav", audio.to_int16(x))


def _file(out: Path, e: dict, kind: str) -> Path:
    return Path(e["path"]) if "path" in e else out / kind / f"{e['id']}.wav"


def cmd_finalize(out: Path) -> dict:
    plan = _load_plan(out)
    missing = [str(_file(out, e, "speech")) for e in plan["speech"] if not _file(out, e, "speech").is_file()]
    missing += [str(_file(out, e, "noise")) for e in plan["noise"] if not _file(out, e, "noise").is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} planned files are missing (first: {missing[0]}); "
                                "rerun the speech and noise jobs (real recordings: the recipe's stage 0)")
    summary = {"text_source": plan["text_source"], "voices": plan["voices"],
               "families": plan["config"]["families"], "sets": {}}
    for s in SPEECH_SETS:
        sp = [e for e in plan["speech"] if e["set"] == s]
        if not sp:
            continue
        real_only = NOISE_OF[s].startswith("real-")
        nz = [e for e in plan["noise"] if e["set"] == NOISE_OF[s].removeprefix("real-") and ("path" in e or not real_only)]
        if not nz:
            raise ValueError(f"{s}: no noise for this set (real test noise: real_noise.per_category.test)")
        d = out / s
        write_kv(d / "speech.scp", {e["id"]: str(_file(out, e, "speech").resolve()) for e in sp})
        write_kv(d / "speech2spk", {e["id"]: e["spk"] for e in sp})
        if all(e["text"] is not None for e in sp):
            write_kv(d / "speech.text", {e["id"]: e["text"] for e in sp})
        elif (d / "speech.text").is_file():
            (d / "speech.text").unlink()
        write_kv(d / "noise.scp", {e["id"]: str(_file(out, e, "noise").resolve()) for e in nz})
        secs = sum(audio.audio_info(_file(out, e, "speech"))[0] for e in sp) / audio.SAMPLE_RATE
        summary["sets"][s] = {"utterances": len(sp), "hours": round(secs / 3600, 3),
                              "voices": sorted({e["voice"] for e in sp}), "speakers": len({e["spk"] for e in sp}),
                              "real_utterances": sum("path" in e for e in sp), "noise_instances": len(nz),
                              "real_noise_instances": sum("path" in e for e in nz)}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1))
    for s, v in summary["sets"].items():
        log.info("%s: %d utterances (%d real), %.2f h, voices %s, %d noise instances (%d real)", s, v["utterances"],
                 v["real_utterances"], v["hours"], ",".join(v["voices"]), v["noise_instances"], v["real_noise_instances"])
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.synth_sources", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["plan", "speech", "noise", "finalize", "real-confs"], help="what to do")
    p.add_argument("--out", help="output dir (e.g. data/local/mini; every step but real-confs)")
    p.add_argument("--conf", help="YAML corpus config (keys: " + ", ".join(DEFAULTS) + ")")
    p.add_argument("--job", type=int, default=1, help="job index, 1-based (speech, noise)")
    p.add_argument("--num-jobs", type=int, default=1, help="number of jobs (speech, noise)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--real-noise", help="plan: real noise list (TSV) that the config's real_noise draws from")
    p.add_argument("--real-voices", help="plan: real voice list (TSV) that the config's real_voices draws from")
    args = p.parse_args(argv)
    logutil.setup()
    if args.out is None and args.step != "real-confs":
        p.error(f"{args.step} needs --out")
    out = Path(args.out or ".")
    try:
        if args.step == "real-confs":
            cfg = load_config(args.conf)
            print(*[(cfg[k] or {}).get("conf") or "-" for k in REAL_KEYS])
            return 0
        out.mkdir(parents=True, exist_ok=True)
        if args.step == "plan":
            cmd_plan(out, load_config(args.conf), args.real_noise, args.real_voices)
        elif args.step == "speech":
            cmd_speech(out, args.job, args.num_jobs, not args.quiet)
        elif args.step == "noise":
            cmd_noise(out, args.job, args.num_jobs, not args.quiet)
        else:
            cmd_finalize(out)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
