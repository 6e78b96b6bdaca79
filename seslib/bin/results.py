"""Write the results table (RESULTS.md) from scored systems, with facts, not typed claims.

  python -m seslib.bin.results --out RESULTS.md --sets test test_heldout \\
      --row "Noisy input" exp/noisy noisy \\
      --row "Base GCRN" exp/base exp/base/best.pt \\
      --row "RNNoise" exp/peer_rnnoise peer:rnnoise \\
      --ablation-row "Base, static mixtures" exp/base_static exp/base_static/best.pt

Each row: a label, a system dir whose ``score_<set>/summary.json`` (seslib.bin.score)
holds its scores on each test set of ``--sets``, and where the audio came from (``clean``
or ``noisy`` for the reference and the input, a checkpoint, or ``peer:NAME``). The first
set makes the main table; a second set (the held-out-voice test) gets a table of its own
with the difference to the first (the generalisation gap). ``--ablation-row`` systems make
the data-ablation table: the training data of each (static / dynamic mixing / which
augmentations, read from the checkpoint's config), its budget, training wall time, valid
curve, and scores on every set. ``--teacher-row`` systems make the teacher-ablation table
(each mode with the real teacher, its random twin, the offline pre-trained one), and
``--teacher-check`` files the content-check table. ``--pretrain-row`` and ``--finetune-row``
systems make the paper's Tables 2 and 3 (pre-trained models as they are, and fine-tuned
beside Base and beside a Base of the same total steps), with each one's budget, initialisation and
best validation score; ``--published`` gives a row the paper's numbers, shown in a column of their
own. ``--corpus-row``
systems make the training-corpus table (Base on synthetic sources, + real noise, + real voices;
gains over the noisy input with bootstrap intervals), and a set named ``test_real`` (real voices in
real noise; its ``--snr-sets`` copies ``test_real_snr<X>``) a table of every row scored on it. The Constr. column (paper,
Table 1: fit for on-device use) is derived for each system:

- causal: measured, black-box: the input after a time t is replaced and no output
  sample before t - 25 ms may change (for peers, on their raw output, before the delay
  is removed);
- parameters < 4 M: counted (checkpoint weights; DFN3's and GTCRN's ONNX initializers;
  RNNoise's float weight tables in its library);
- no SSL model at inference: whether the loaded model runs a teacher when it enhances
  (the ``concat`` modes);
- algorithmic latency is reported beside it: the longest an input sample waits for its output
  (GCRN: its window; peers: one frame plus the output delay measured by cross-correlation).
"""
from __future__ import annotations

import argparse
import sys

from .. import logutil
from ..recipe.report import write


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seslib.bin.results", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="markdown file to write (e.g. RESULTS.md)")
    p.add_argument("--row", nargs=3, action="append", required=True, metavar=("LABEL", "SYSTEM_DIR", "SOURCE"),
                   help="a system: label, its dir (with score_<set>/summary.json), and clean | noisy | "
                        "CHECKPOINT | peer:NAME")
    p.add_argument("--sets", nargs="+", default=["test"],
                   help="test sets (default test); a second one (e.g. test_heldout) gets its own table with the gap")
    p.add_argument("--ablation-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "SOURCE"),
                   help="a system of the data-ablation table (as --row)")
    p.add_argument("--corpus-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "SOURCE"),
                   help="a system of the training-corpus table (as --row; the noisy input's SOURCE is noisy)")
    p.add_argument("--title", default="Results", help="heading of the table")
    p.add_argument("--note", default="", help="a paragraph under the heading (corpus, command, ...)")
    p.add_argument("--stamp-dir", default="exp/stages", help="stage stamps, for the wall-time table")
    p.add_argument("--teacher-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "CHECKPOINT"),
                   help="a system of the teacher-ablation table (its teacher is read from the checkpoint)")
    p.add_argument("--pretrain-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "CHECKPOINT"),
                   help="a system of Table 2 (enhancement from the pre-trained models)")
    p.add_argument("--finetune-row", nargs=3, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR", "CHECKPOINT"),
                   help="a system of Table 3 (pre-trained, fine-tuned; Base among them as the reference)")
    p.add_argument("--snr-sets", nargs="*", default=[],
                   help="copies of test sets at other SNRs (test_snr<X>: the first set's; test_real_snr<X>: test_real's)")
    p.add_argument("--snr-row", nargs=2, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR"),
                   help="a system of the WER-against-SNR table")
    p.add_argument("--trained", nargs="*", default=[],
                   help="systems trained by the run but in no table (e.g. the encoder pre-training): their stage "
                        "times count in the totals")
    p.add_argument("--seed-row", nargs=2, action="append", default=[], metavar=("LABEL", "SYSTEM_DIRS"),
                   help="a system of the seed-spread table: label and its dirs, one per training seed (space-separated)")
    p.add_argument("--analysis-dir", help="the embedding analysis's outputs (exp/analysis: lags/, spectra/)")
    p.add_argument("--decoded-row", nargs=2, action="append", default=[], metavar=("LABEL", "SYSTEM_DIR"),
                   help="speech decoded from embeddings, (b) teacher or (c) student in LABEL (Fig. 5)")
    p.add_argument("--student", help="checkpoint of the teacher-shaped student (Sec. 3.5)")
    p.add_argument("--published", nargs=2, action="append", default=[], metavar=("SYSTEM_DIR", "JSON"),
                   help="the paper's numbers of a row (JSON: pesq, stoi, si_sdr, wer, source), shown beside ours "
                        "in Tables 1-3 and read by the findings table")
    p.add_argument("--fig-dir", help="where the figures go, linked from --out (default: figures/ beside it)")
    p.add_argument("--teacher-check", nargs="*", default=[], help="content-check JSON files (seslib.bin.teacher_check)")
    p.add_argument("--teacher-dir", help="experiment dir of the offline-pre-trained teacher (exp/teacher): "
                                         "adds its training summary")
    args = p.parse_args(argv)
    logutil.setup()
    return write(args)


if __name__ == "__main__":
    sys.exit(main())
