"""Mixing plans: which clean segment, which noise segment, at what SNR and level.

A *source dir* lists what can be mixed (any corpus writes one):

- ``speech.scp``: speech id -> audio path;  ``speech2spk``: speech id -> speaker;
- ``speech.text`` (optional): speech id -> transcript;  ``noise.scp``: noise id -> path.

:func:`make_plan` draws one entry per output utterance, from a seed alone (it reads only
audio headers). :func:`render_entry` turns an entry into three int16 signals with
``noisy == clean + noise`` exactly; the entry, completed with the gains it used, is
enough to regenerate the mixture bit for bit (:func:`render_entry` applies stored gains
as they are).
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np

from . import audio
from .data import (DataDirError, PLAN_FILE, read_kv, read_plan, spk2utt_from_utt2spk,
                   validate_data_dir, write_kv, write_plan)

log = logging.getLogger(__name__)


def read_source_dir(src) -> tuple[dict, dict]:
    """Read a source dir.

    Returns:
        ``(speech, noise)``: ``speech[id] = {"path", "spk", "text"}``,
        ``noise[id] = {"path"}``.
    """
    src = Path(src)
    scp = read_kv(src / "speech.scp")
    spk = read_kv(src / "speech2spk") if (src / "speech2spk").is_file() else {}
    text = read_kv(src / "speech.text", allow_empty_value=True) if (src / "speech.text").is_file() else {}
    speech = {k: {"path": v, "spk": spk.get(k, k), "text": text.get(k)} for k, v in scp.items()}
    noise = {k: {"path": v} for k, v in read_kv(src / "noise.scp").items()}
    if not speech:
        raise DataDirError(f"{src / 'speech.scp'}: no speech sources")
    if not noise:
        raise DataDirError(f"{src / 'noise.scp'}: no noise sources")
    return speech, noise


def _lengths(items: dict, what: str) -> dict[str, int]:
    out = {}
    for k, v in items.items():
        frames, sr = audio.audio_info(v["path"], utt=f"{what} {k}")
        n = audio.num_samples_at(frames, sr)
        if n == 0:
            raise audio.AudioError(f"{what} '{k}' (file {v['path']}): audio has zero length")
        out[k] = n
    return out


def make_plan(speech: dict, noise: dict, tag: str, seed: int, snr_range: tuple[float, float],
              level_range: tuple[float, float] = (-35.0, -15.0), segment_seconds: float = 0.0,
              num_utts: int = 0, min_seconds: float = 1.0, snr_definition: str = "global") -> list[dict]:
    """Draw a mixing plan.

    Args:
        speech, noise: as returned by :func:`read_source_dir`.
        tag: set name, part of every utterance id (``<spk>-<tag>-<index>``).
        seed: the plan is a function of this seed and the sources.
        snr_range: ``(lo, hi)`` dB, uniform; ``lo == hi`` gives a fixed SNR (test sets).
        level_range: target mixture level, dBFS, uniform (DNS: -35..-15).
        segment_seconds: 0 uses each speech source whole, once, in order; otherwise
            ``num_utts`` segments of this length at random speakers and offsets.
        num_utts: number of utterances when ``segment_seconds > 0``.
        min_seconds: speech sources shorter than this are skipped (logged).
        snr_definition: how the SNR is measured (:data:`seslib.audio.SNR_DEFINITIONS`), recorded in
            every entry (a plan without it was mixed with ``active``, the definition before it existed).

    Returns:
        List of plan entries (dicts), sorted by utterance id.
    """
    if snr_definition not in audio.SNR_DEFINITIONS:
        raise ValueError(f"SNR definition '{snr_definition}': expected one of {', '.join(audio.SNR_DEFINITIONS)}")
    sp_len = _lengths(speech, "speech")
    nz_len = _lengths(noise, "noise")
    noise_ids = sorted(nz_len)
    min_len = int(min_seconds * audio.SAMPLE_RATE)
    if segment_seconds > 0:
        seg = int(segment_seconds * audio.SAMPLE_RATE)
        usable = sorted(k for k, n in sp_len.items() if n >= min_len)
        if not usable:
            raise DataDirError(f"no speech source is at least {min_seconds} s long")
        picks = []
        for i in range(num_utts):
            rng = np.random.default_rng([seed, i])
            sid = usable[rng.integers(len(usable))]
            n = min(seg, sp_len[sid])
            picks.append((i, sid, int(rng.integers(0, sp_len[sid] - n + 1)), n))
    else:
        picks, skipped = [], 0
        for i, sid in enumerate(sorted(sp_len)):
            if sp_len[sid] < min_len:
                skipped += 1
                continue
            picks.append((i, sid, 0, sp_len[sid]))
        if skipped:
            log.info("%s: skipped %d speech sources shorter than %.1f s", tag, skipped, min_seconds)
    entries = []
    for i, sid, offset, n in picks:
        rng = np.random.default_rng([seed, i, 1])
        nid = noise_ids[rng.integers(len(noise_ids))]
        spk = speech[sid]["spk"]
        entries.append({
            "utt": f"{spk}-{tag}-{i:06d}",
            "spk": spk,
            "clean": sid, "clean_path": speech[sid]["path"], "clean_offset": offset,
            "num_samples": n,
            "noise": nid, "noise_path": noise[nid]["path"],
            "noise_offset": int(rng.integers(nz_len[nid])),
            "snr_db": round(float(rng.uniform(*snr_range)), 3), "snr_definition": snr_definition,
            "target_level_db": round(float(rng.uniform(*level_range)), 3),
            "seed": int(np.random.SeedSequence([seed, i]).generate_state(1)[0]),
            "text": speech[sid]["text"],
            "noise_redraws": _redraws(noise, nz_len, noise_ids, seed, i),
        })
    entries.sort(key=lambda e: e["utt"].encode())
    return entries


#: noise draws a static mixture falls back on, in order, when its segment of noise is silent
NOISE_REDRAWS = 4


def _redraws(noise: dict, nz_len: dict, noise_ids: list, seed: int, i: int) -> list:
    """``[noise id, path, offset]`` of the draws :func:`render_entry` tries, in order, when the
    planned noise segment is silent (an all-zero stretch of a clip): what dynamic mixing does by
    drawing again, made deterministic (its own generator, so the planned draws stay as they were)."""
    rng = np.random.default_rng([seed, i, 2])
    out = []
    for _ in range(NOISE_REDRAWS):
        nid = noise_ids[rng.integers(len(noise_ids))]
        out.append([nid, noise[nid]["path"], int(rng.integers(nz_len[nid]))])
    return out


def _noise_segment(path, offset: int, n: int, utt: str) -> np.ndarray:
    """``n`` samples of a noise file starting at ``offset``, wrapping around its end."""
    x = audio.read_audio(path, utt=utt)
    idx = (offset + np.arange(n)) % len(x)
    return x[idx]


def snr_definition(entry: dict) -> str:
    """How the SNR of a plan entry is measured: its ``snr_definition``, ``active`` in plans older than it."""
    return entry.get("snr_definition", "active")


def render_entry(entry: dict):
    """Make one mixture.

    Returns:
        ``(clean_i16, noise_i16, noisy_i16, completed_entry)``; the completed entry holds
        ``clean_gain``, ``noise_gain`` and ``snr_realised_db``.
    """
    utt, n, off = entry["utt"], entry["num_samples"], entry["clean_offset"]
    clean = audio.read_audio(entry["clean_path"], utt=utt, start=off, stop=off + n)
    if len(clean) != n:
        raise audio.AudioError(f"utterance '{utt}' (file {entry['clean_path']}): has {len(clean)} samples "
                               f"from offset {off}, plan needs {n}")
    definition = snr_definition(entry)
    draws = [[entry["noise"], entry["noise_path"], entry["noise_offset"]]]
    if not ("clean_gain" in entry and "noise_gain" in entry):
        draws += entry.get("noise_redraws", [])
    for k, (nid, npath, noff) in enumerate(draws):
        noise = _noise_segment(npath, noff, n, utt)
        if "clean_gain" in entry and "noise_gain" in entry:
            gc, gn = entry["clean_gain"], entry["noise_gain"]
            break
        try:
            gc, gn = audio.mix_gains(clean, noise, entry["snr_db"], entry["target_level_db"],
                                     snr_definition=definition)
            break
        except ValueError as exc:
            if str(exc).startswith("noise is silent") and k + 1 < len(draws):
                log.info("utterance '%s': noise %s at %d is silent here: drawn again (%s)", utt, npath, noff,
                         draws[k + 1][1])
                continue
            raise audio.AudioError(f"utterance '{utt}': {exc} (clean {entry['clean_path']}, "
                                   f"noise {npath})") from None
    if k:
        entry = dict(entry, noise=nid, noise_path=npath, noise_offset=noff, noise_redrawn=k)
    c, z, s = audio.mix_at_snr(clean, noise, gc, gn)
    done = dict(entry, clean_gain=gc, noise_gain=gn,
                snr_realised_db=round(audio.snr(c / 32768.0, z / 32768.0, definition), 4))
    return c, z, s, done


def _audio_paths(out_dir: Path, utt: str) -> dict[str, Path]:
    return {k: (out_dir / "audio" / k / f"{utt}.wav").resolve() for k in ("noisy", "clean", "noise")}


def _read_records(path: Path) -> dict[str, dict]:
    """Records of finished utterances; a torn last line (killed job) is ignored."""
    out = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
                out[e["utt"]] = e
            except (json.JSONDecodeError, KeyError):
                continue
    return out


def render_job(out_dir, job: int = 1, num_jobs: int = 1, progress: bool = True) -> int:
    """Render this job's share (utterances ``job-1, job-1+num_jobs, ...``) of
    ``<out_dir>/.plan/plan.jsonl``. Finished utterances (recorded, files present) are
    skipped, so a killed job resumes. Returns the number of utterances rendered now.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    plan = list(read_plan(out_dir / ".plan" / "plan.jsonl").values())
    mine = plan[job - 1::num_jobs]
    rec_path = out_dir / ".plan" / f"records.{job}.jsonl"
    done = _read_records(rec_path)
    todo = [e for e in mine if not (e["utt"] in done and all(p.is_file() for p in _audio_paths(out_dir, e["utt"]).values()))]
    if len(todo) < len(mine):
        log.info("job %d: %d of %d utterances already done, resuming", job, len(mine) - len(todo), len(mine))
    # rewrite the record file without torn or stale lines before appending
    todo_ids = {e["utt"] for e in todo}
    kept = [done[e["utt"]] for e in mine if e["utt"] not in todo_ids]
    rec_path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in kept), encoding="utf-8")
    with open(rec_path, "a", encoding="utf-8") as rec:
        for e in tqdm(todo, desc=f"mix {out_dir.name} job {job}", disable=not progress, mininterval=5):
            c, z, s, full = render_entry(e)
            paths = _audio_paths(out_dir, e["utt"])
            audio.write_audio(paths["clean"], c)
            audio.write_audio(paths["noise"], z)
            audio.write_audio(paths["noisy"], s)
            rec.write(json.dumps(full, sort_keys=True) + "\n")
            rec.flush()
    return len(todo)


def write_plan_for_render(out_dir, entries) -> None:
    """Store a plan in ``<out_dir>/.plan/plan.jsonl`` for :func:`render_job` (keeping
    completed gains if the entries have them)."""
    out_dir = Path(out_dir)
    (out_dir / ".plan").mkdir(parents=True, exist_ok=True)
    old = out_dir / ".plan" / "plan.jsonl"
    if old.is_file():
        before = read_plan(old)
        now = {e["utt"]: e for e in entries}
        if before != now:  # a different plan: finished records and audio are stale
            for rec in (out_dir / ".plan").glob("records.*.jsonl"):
                rec.unlink()
            shutil.rmtree(out_dir / "audio", ignore_errors=True)
            log.info("%s: the plan changed; previous mixtures removed", out_dir)
    write_plan(old, entries)


def finalize(out_dir) -> dict:
    """Gather the job records into a data dir (scps, utt2spk, spk2utt, text,
    utt2num_samples, ``mix_plan.jsonl``) and validate it.

    Returns:
        Summary: ``{"utts", "hours", "snr_max_error_db"}``.

    Raises:
        DataDirError: when an utterance of the plan was not rendered, or the result is invalid.
    """
    out_dir = Path(out_dir)
    plan = read_plan(out_dir / ".plan" / "plan.jsonl")
    records: dict[str, dict] = {}
    for rec in sorted((out_dir / ".plan").glob("records.*.jsonl")):
        records.update(_read_records(rec))
    missing = [u for u in plan if u not in records]
    if missing:
        raise DataDirError(f"{out_dir}: {len(missing)} planned utterances were not rendered "
                           f"(first: {missing[0]}); rerun the mixing jobs")
    entries = [records[u] for u in plan]
    paths = {e["utt"]: _audio_paths(out_dir, e["utt"]) for e in entries}
    write_kv(out_dir / "wav.scp", {u: str(p["noisy"]) for u, p in paths.items()})
    write_kv(out_dir / "spk1.scp", {u: str(p["clean"]) for u, p in paths.items()})
    write_kv(out_dir / "noise1.scp", {u: str(p["noise"]) for u, p in paths.items()})
    utt2spk = {e["utt"]: e["spk"] for e in entries}
    write_kv(out_dir / "utt2spk", utt2spk)
    write_kv(out_dir / "spk2utt", spk2utt_from_utt2spk(utt2spk))
    write_kv(out_dir / "utt2num_samples", {e["utt"]: e["num_samples"] for e in entries})
    if all(e.get("text") is not None for e in entries):
        write_kv(out_dir / "text", {e["utt"]: e["text"] for e in entries})
    elif (out_dir / "text").exists():
        (out_dir / "text").unlink()
    write_plan(out_dir / PLAN_FILE, entries)
    problems = validate_data_dir(out_dir, check_audio="exists")
    if problems:
        raise DataDirError("\n".join(problems))
    err = max(abs(e["snr_realised_db"] - e["snr_db"]) for e in entries)
    return {"utts": len(entries), "hours": sum(e["num_samples"] for e in entries) / audio.SAMPLE_RATE / 3600,
            "snr_max_error_db": err}


def plan_summary(entries) -> str:
    """One line: count, hours, SNR range, number of distinct speakers and noises."""
    hrs = sum(e["num_samples"] for e in entries) / audio.SAMPLE_RATE / 3600
    snrs = [e["snr_db"] for e in entries]
    defs = "/".join(sorted({snr_definition(e) for e in entries}))
    return (f"{len(entries)} utterances, {hrs:.2f} h, SNR ({defs}) {min(snrs):.1f}..{max(snrs):.1f} dB, "
            f"{len({e['spk'] for e in entries})} speakers, {len({e['noise'] for e in entries})} noises")
