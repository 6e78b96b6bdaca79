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

Sub-commands (a recipe runs ``speech`` and ``noise`` as parallel jobs):

  plan      draw what to synthesise from the config's seed -> OUT/synth_plan.json
  speech    synthesise this job's share of the speech shards (resumes after a kill)
  noise     generate this job's share of the noise instances (after all speech jobs)
  finalize  check every file, write source dirs OUT/{train,valid,test}/ and OUT/summary.json
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
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
SPEECH_SETS = SETS + ("test_heldout",)   # sets with speech

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
}


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
    return cfg


def make_synth_plan(cfg: dict, available: dict[str, str]) -> dict:
    """Decide every utterance (voice, parameters, text) and noise instance from the seed."""
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
    return {"config": cfg, "voices": voices + extra, "voice_sets": voice_sets,
            "text_source": text_lib.SOURCE_NAME, "speech": speech, "shards": shards, "noise": noises}


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def cmd_plan(out: Path, cfg: dict) -> None:
    plan = make_synth_plan(cfg, tts.available_voices())
    path = out / "synth_plan.json"
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if _digest(old) == _digest(plan):
            log.info("%s unchanged", path)
            return
        log.info("%s changed: removing previously synthesised audio", path)
        for d in ("speech", "noise"):
            shutil.rmtree(out / d, ignore_errors=True)
    atomic_write_text(path, json.dumps(plan, indent=1, sort_keys=True))
    n = {s: sum(e["set"] == s for e in plan["speech"]) for s in SPEECH_SETS + ("babble",)}
    log.info("planned speech %s with voices %s; %d noise instances of %d families",
             n, plan["voices"], len(plan["noise"]), len(cfg["families"]))


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
    mine = plan["noise"][job - 1::nj]
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


def cmd_finalize(out: Path) -> dict:
    plan = _load_plan(out)
    missing = [e["id"] for e in plan["speech"] if not (out / "speech" / f"{e['id']}.wav").is_file()]
    missing += [e["id"] for e in plan["noise"] if not (out / "noise" / f"{e['id']}.wav").is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} planned files are missing (first: {missing[0]}); "
                                "rerun the speech and noise jobs")
    summary = {"text_source": plan["text_source"], "voices": plan["voices"],
               "families": plan["config"]["families"], "sets": {}}
    for s in SPEECH_SETS:
        sp = [e for e in plan["speech"] if e["set"] == s]
        if not sp:
            continue
        nz = [e for e in plan["noise"] if e["set"] == ("test" if s == "test_heldout" else s)]
        d = out / s
        write_kv(d / "speech.scp", {e["id"]: str((out / "speech" / f"{e['id']}.wav").resolve()) for e in sp})
        write_kv(d / "speech2spk", {e["id"]: e["spk"] for e in sp})
        write_kv(d / "speech.text", {e["id"]: e["text"] for e in sp})
        write_kv(d / "noise.scp", {e["id"]: str((out / "noise" / f"{e['id']}.wav").resolve()) for e in nz})
        secs = sum(audio.audio_info(out / "speech" / f"{e['id']}.wav")[0] for e in sp) / audio.SAMPLE_RATE
        summary["sets"][s] = {"utterances": len(sp), "hours": round(secs / 3600, 3),
                              "voices": sorted({e["voice"] for e in sp}), "noise_instances": len(nz)}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1))
    for s, v in summary["sets"].items():
        log.info("%s: %d utterances, %.2f h, voices %s, %d noise instances",
                 s, v["utterances"], v["hours"], ",".join(v["voices"]), v["noise_instances"])
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.synth_sources", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["plan", "speech", "noise", "finalize"], help="what to do")
    p.add_argument("--out", required=True, help="output dir (e.g. data/local/mini)")
    p.add_argument("--conf", help="YAML corpus config (keys: " + ", ".join(DEFAULTS) + ")")
    p.add_argument("--job", type=int, default=1, help="job index, 1-based (speech, noise)")
    p.add_argument("--num-jobs", type=int, default=1, help="number of jobs (speech, noise)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logutil.setup()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        if args.step == "plan":
            cmd_plan(out, load_config(args.conf))
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
