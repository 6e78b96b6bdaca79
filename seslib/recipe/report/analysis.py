"""RESULTS.md section of the embedding analysis (paper, Secs. 3.4-3.5, Figs. 3-5): lag
statistics, the teacher-shaped student, and speech decoded from embeddings."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ...checkpoint import read_checkpoint

#: what each lag-statistics source is, for the table
SOURCE_LABELS = {"teacher": "teacher, last layer (Fig. 3)", "random": "its random twin, last layer",
                 "student": "teacher-shaped student (Fig. 4)", "base": "Base GCRN bottleneck",
                 "distill_embed": "Distillation Embed.: P(bottleneck)",
                 "pretrain_enc_l1": "L1 pre-trained encoder: P(bottleneck) (Sec. 3.4)"}


def _q(x: dict, nd: int) -> str:
    return f"{x['median']:.{nd}f} [{x['q1']:.{nd}f}, {x['q3']:.{nd}f}]" if x["n"] else "–"


def copy_figure(src: Path, fig_dir: Path, name: str) -> str | None:
    """Copy a PNG beside RESULTS.md (``fig_dir``); its path relative to RESULTS.md's dir."""
    if not src.is_file():
        return None
    fig_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, fig_dir / name)
    return f"{fig_dir.name}/{name}"


def lags_section(lags_json: Path, fig_dir: Path) -> list[str]:
    if not lags_json.is_file():
        return []
    data = json.loads(lags_json.read_text())
    lags = list(next(iter(data.values()))["lags"])
    label = {ms: (f"{ms} ms" if int(ms) < 1000 else f"{int(ms) / 1000:g} s") for ms in lags}
    md = ["### Lag statistics (Figs. 3-4)", "",
          "Every pair of frames a lag apart in each test utterance: Pearson correlation across dimensions and "
          "Euclidean distance, median [first quartile, third quartile]. Teacher, random twin and student read the "
          "clean speech; the GCRNs their input, the noisy speech (the embedding distillation through its projection P "
          "to the teacher's width; Base has no P).", "",
          "| Embedding (width) | " + " | ".join(f"corr. {label[ms]}" for ms in lags) + " | "
          + " | ".join(f"dist. {label[ms]}" for ms in lags) + " |",
          "|---|" + "---|" * (2 * len(lags))]
    for name, v in data.items():
        md.append(f"| {SOURCE_LABELS.get(name, name)} ({v['dim']}) | "
                  + " | ".join(_q(v["lags"][ms]["corr"], 2) for ms in lags) + " | "
                  + " | ".join(_q(v["lags"][ms]["dist"], 1) for ms in lags) + " |")
    figs = [(n, copy_figure(lags_json.parent / f"{n}.png", fig_dir, f"lags_{n}.png")) for n in data]
    md += [""] + [f"![{SOURCE_LABELS.get(n, n)}]({p})" for n, p in figs if p] + [""]
    return md


def student_section(ckpt: Path, lags_json: Path, stamp_dir: Path) -> list[str]:
    if not ckpt.is_file():
        return []
    ck = read_checkpoint(ckpt)
    cfg, best = ck["config"], ck.get("best", {})
    tc = cfg["train"]
    params = sum(v.numel() for v in ck["model"].values() if v.is_floating_point())
    stamp = stamp_dir / f"3_train_{ckpt.parent.name}.done"
    wall = f", {json.loads(stamp.read_text())['elapsed_s']:.0f} s of training" if stamp.is_file() else ""
    md = ["### The teacher-shaped student (Sec. 3.5)", "",
          f"The teacher's architecture ({ck['enhancer']['teacher']}), {params / 1e6:.2f} M parameters, random initial "
          f"weights, trained on the clean training speech to predict the teacher's last layer with L1 + cosine: "
          f"{tc['max_steps']} steps x {tc['batch_size']} x {tc['crop_seconds']:g} s, Adam lr {cfg['optim']['lr']:g} "
          f"({cfg['scheduler']['name']}){wall}; best validation loss {-best.get('score', float('nan')):.3f} "
          f"at step {best.get('step', '–')}."]
    if lags_json.is_file():
        data = json.loads(lags_json.read_text())
        rows = [(n, v["match"]) for n, v in data.items() if "match" in v]
        if rows:
            md += ["", "Match to the teacher on the clean test speech, frame by frame (the random twin: the same "
                   "network before training):", "", "| Embedding | mean L1 | mean cosine | frames |", "|---|---|---|---|"]
            md += [f"| {SOURCE_LABELS.get(n, n)} | {m['l1']:.3f} | {m['cosine']:.3f} | {m['frames']} |" for n, m in rows]
    return md + [""]


def decoded_section(rows, spectra_json: Path, summary, test_set: str, fig_dir: Path) -> list[str]:
    """Fig. 5 as numbers: the decoder of teacher embeddings given the teacher's and the student's
    embeddings of the clean test speech; rows ``(label, system_dir)``."""
    if not spectra_json.is_file():
        return []
    sp = json.loads(spectra_json.read_text())
    md = ["### Speech decoded from embeddings (Fig. 5)", "",
          f"The decoder pre-trained on the teacher's embeddings (Table 2, reading (i)) given the embeddings of the clean "
          f"test speech by (b) the teacher and (c) the student. High band: the share of energy above "
          f"{sp['cutoff_hz'] / 1000:g} kHz relative to the clean speech's share "
          f"({100 * sp['clean_high_band_share']['median']:.1f} % median), in dB, median [quartiles] over "
          f"{sp['utterances']} utterances.", "",
          "| Decoded from | high band (dB) | PESQ | STOI | SI-SDR (dB) | WER (%) | PocketSphinx PER (%) |",
          "|---|---|---|---|---|---|---|"]
    for label, d in rows:
        name = "teacher" if "(b)" in label else "student"
        h = sp["decoded"].get(name)
        hb = f"{h['median_db']:.1f} [{h['q1_db']:.1f}, {h['q3_db']:.1f}]" if h else "–"
        try:
            s = summary(d, test_set)
        except FileNotFoundError:
            continue
        fmt = lambda k, nd: "–" if s.get(k) is None else f"{s[k]:.{nd}f}"  # noqa: E731
        md.append(f"| {label} | {hb} | {fmt('pesq', 2)} | {fmt('stoi', 3)} | {fmt('si_sdr', 2)} | {fmt('wer', 1)} | "
                  f"{fmt('per_sphinx', 1)} |")
    fig = copy_figure(spectra_json.parent / "spectrograms.png", fig_dir, "spectrograms.png")
    if fig:
        md += ["", f"![Spectrograms of utterance {sp.get('figure_utt')}: clean, decoded from the teacher's and from the "
               f"student's embeddings]({fig})"]
    return md + [""]


def curve_minimum(points: dict, reading: str) -> tuple[int, dict] | None:
    """(step, scores) of the lowest WER of ``reading`` on a decoder curve's points, or None."""
    pts = [(int(st), p[reading]) for st, p in points.items() if reading in p]
    return min(pts, key=lambda x: (x[1]["wer"], x[0])) if pts else None


def decoder_curve_section(curve_json: Path, fig_dir: Path) -> list[str]:
    """Table 2's decoder of teacher embeddings against its training steps (seslib.bin.decoder_curve)."""
    if not curve_json.is_file():
        return []
    data = json.loads(curve_json.read_text())
    pts, meta = data["points"], data["meta"]
    md = ["### The decoder of teacher embeddings against its steps (Table 2, Sec. 3.3)", "",
          f"Every kept snapshot of `{meta['snapshots']}` on the first {len(meta['utterances'])} utterances of "
          f"`{meta['data_dir']}`: reading (ii), the paper's Table 2 rows, the noisy input through "
          f"`{meta['encoder']}` (encoder, LSTM, P) and the snapshot's M and decoders; reading (i), a diagnosis, "
          "the clean speech resynthesised from the teacher's embeddings of it. Whisper corpus WER and PocketSphinx "
          "phone error rate (%); the paper's rows give WER 7.4-16.5 % (\"< 20 %\", Sec. 3.3).", "",
          "| steps | (ii) WER | (ii) PER | (i) WER | (i) PER |", "|---|---|---|---|---|"]
    fmt = lambda p, r, k: f"{p[r][k]:.1f}" if r in p else "–"  # noqa: E731
    for st in sorted(pts, key=int):
        p = pts[st]
        md.append(f"| {st} | {fmt(p, 'ii', 'wer')} | {fmt(p, 'ii', 'per')} | {fmt(p, 'i', 'wer')} | {fmt(p, 'i', 'per')} |")
    lows = [(r, curve_minimum(pts, r)) for r in ("ii", "i")]
    md += ["", "Lowest WER: " + "; ".join(f"reading ({r}) {m[1]['wer']:.1f} % at step {m[0]}" for r, m in lows if m)
           + "."]
    fig = copy_figure(curve_json.parent / "curve.png", fig_dir, "decoder_curve.png")
    return md + (["", f"![WER and PER against the decoder's steps]({fig})"] if fig else []) + [""]


def analysis_section(analysis_dir: Path, student: str | None, decoded_rows, summary, test_set: str,
                     stamp_dir: Path, fig_dir: Path) -> list[str]:
    lags = analysis_dir / "lags" / "lags.json"
    md = lags_section(lags, fig_dir)
    md += student_section(Path(student), lags, stamp_dir) if student else []
    md += decoded_section(decoded_rows, analysis_dir / "spectra" / "spectra.json", summary, test_set, fig_dir)
    md += decoder_curve_section(analysis_dir / "decoder_curve" / "curve.json", fig_dir)
    return ["## The teacher's embeddings (Secs. 3.4-3.5)", "", *md] if md else []
