"""Speech decoded from embeddings, in the high band (paper, Sec. 3.5, Fig. 5).

  python -m seslib.bin.resynth_spectra --ref-dir data/test --out exp/analysis/spectra \\
      --decoded teacher=exp/pretrain_dec_teacher/enhanced_test \\
      --decoded student=exp/resynth_student/enhanced_test

Each ``--decoded NAME=DIR`` is speech decoded from embeddings of the reference dir's clean
speech (a dir or wav.scp with the same utterance ids): the decoder pre-trained on the
teacher's embeddings given the teacher's embeddings (Fig. 5 (b)), or given a distilled
student's (Fig. 5 (c)). For every utterance, the share of energy above ``--cutoff`` Hz is
compared with the clean speech's share (:func:`seslib.analysis.spectra.high_band_ratio_db`:
0 dB as much of the energy up there as the clean speech, -10 dB a tenth).

Writes OUT/spectra.json (per source: mean, median and quartiles of the ratio over the
utterances; the clean speech's own high-band share) and OUT/spectrograms.png (the clean
speech and every decoded version of one utterance, ``--utt`` or the utterance of median
duration), atomically.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .. import audio, logutil
from ..analysis.spectra import CUTOFF_HZ, band_energy, high_band_ratio_db
from ..data import DataDirError, read_kv
from ..fileutil import atomic_output, atomic_write_text

log = logging.getLogger("seslib.resynth_spectra")


def _scp(path: Path) -> dict:
    return read_kv(path / "wav.scp" if path.is_dir() else path)


def spectrogram_figure(signals: list[tuple[str, np.ndarray]], utt: str, path: Path) -> None:
    """Log-power spectrograms (25 ms Hann window, 10 ms hop) one above the other; atomic PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.signal import spectrogram
    fig, axes = plt.subplots(len(signals), 1, figsize=(6, 1.6 * len(signals)), sharex=True)
    for ax, (label, x) in zip(np.atleast_1d(axes), signals):
        f, t, s = spectrogram(x, fs=audio.SAMPLE_RATE, window="hann", nperseg=400, noverlap=240)
        db = 10 * np.log10(s + 1e-12)
        ax.pcolormesh(t, f / 1000, db, vmin=db.max() - 80, vmax=db.max(), shading="auto", cmap="magma",
                      rasterized=True)
        ax.axhline(CUTOFF_HZ / 1000, color="w", lw=0.6, ls="--")
        ax.set_ylabel("kHz")
        ax.set_title(label, fontsize=9, loc="left")
    np.atleast_1d(axes)[-1].set_xlabel(f"time (s), utterance {utt}")
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=72)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.resynth_spectra", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref-dir", required=True, help="data dir whose spk1.scp holds the clean speech")
    p.add_argument("--decoded", action="append", required=True, metavar="NAME=DIR",
                   help="speech decoded from embeddings of the clean speech (repeatable): a dir with wav.scp, or a wav.scp")
    p.add_argument("--out", required=True, help="output dir (spectra.json, spectrograms.png)")
    p.add_argument("--cutoff", type=float, default=CUTOFF_HZ, help=f"high band's lower edge in Hz (default {CUTOFF_HZ:g})")
    p.add_argument("--utt", help="utterance of the figure (default: the one of median duration)")
    args = p.parse_args(argv)
    logutil.setup()
    try:
        ref = Path(args.ref_dir)
        clean = read_kv(ref / "spk1.scp")
        decoded = []
        for d in args.decoded:
            name, sep, path = d.partition("=")
            if not sep or not name or not path:
                raise ValueError(f"--decoded {d!r}: expected NAME=DIR")
            scp = _scp(Path(path))
            missing = sorted(set(clean) - set(scp))
            if missing:
                raise DataDirError(f"{path}: no decoded audio for {len(missing)} of {ref}'s utterances (first: {missing[0]})")
            decoded.append((name, path, scp))
        utts = sorted(clean)
        ratios = {name: [] for name, _, _ in decoded}
        shares, lengths = [], {}
        for utt in utts:
            y = audio.read_audio(clean[utt], utt=utt)
            lengths[utt] = len(y)
            shares.append(band_energy(y, audio.SAMPLE_RATE, args.cutoff) / max(band_energy(y, audio.SAMPLE_RATE), 1e-20))
            for name, _, scp in decoded:
                ratios[name].append(high_band_ratio_db(audio.read_audio(scp[utt], utt=utt), y, audio.SAMPLE_RATE,
                                                       args.cutoff))
        result = {"cutoff_hz": args.cutoff, "utterances": len(utts),
                  "clean_high_band_share": {"mean": float(np.mean(shares)), "median": float(np.median(shares))},
                  "decoded": {}}
        for name, path, _ in decoded:
            r = np.asarray(ratios[name])
            q1, med, q3 = np.percentile(r, [25, 50, 75])
            result["decoded"][name] = {"path": path, "mean_db": float(r.mean()), "median_db": float(med),
                                       "q1_db": float(q1), "q3_db": float(q3)}
            log.info("%s: high-band share %.1f dB relative to the clean speech (median over %d utterances)",
                     name, med, len(r))
        utt = args.utt or sorted(utts, key=lambda u: (lengths[u], u))[len(utts) // 2]
        if utt not in clean:
            raise ValueError(f"--utt {utt}: not in {ref / 'spk1.scp'}")
        result["figure_utt"] = utt
        letters = "abcdefghij"
        signals = [("(a) clean speech", audio.read_audio(clean[utt], utt=utt))]
        signals += [(f"({letters[i + 1]}) decoded from {name}'s embeddings", audio.read_audio(scp[utt], utt=utt))
                    for i, (name, _, scp) in enumerate(decoded)]
        spectrogram_figure(signals, utt, Path(args.out) / "spectrograms.png")
        atomic_write_text(Path(args.out) / "spectra.json", json.dumps(result, indent=1) + "\n")
    except (OSError, ValueError, DataDirError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
