"""RESULTS.md, written from scored systems with facts, not typed claims (``python -m
seslib.bin.results --help`` for the rows each table takes): :mod:`.tables` (Table 1, held-out
voices, data ablation, environment, stage times), :mod:`.corpus` (the training corpus,
``test_real``), :mod:`.teacher` (teacher ablation, content checks), :mod:`.pretrain` (Tables 2-3),
:mod:`.wer` (WER against SNR), :mod:`.stats` (bootstrap intervals, seed spread), :mod:`.readings`
(the alternative readings, the triplet margin), :mod:`.analysis`
(Figs. 3-5)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ...fileutil import atomic_write_text
from .analysis import analysis_section
from ..systems import split_steps
from .corpus import corpus_section, real_section
from .pretrain import table2_section, table3_section
from .findings import Evidence, findings_section
from .freshness import stale_scores
from .readings import readings_section
from .stats import intervals_section, seed_cost, seed_section, seed_spread
from .tables import (MAX_PARAMS, _fmt, _scores, _summary, ablation_section, budget_cell, checkpoint_budget,
                     dnsmos_cells, environment, heldout_section, matched_reference, paper_cell, scored_sets,
                     stage_times, stage_totals, system_facts)
from .teacher import content_check_section, pretrain_section, teacher_ablation_section
from .wer import snr_section


def comparisons(args) -> list[tuple[str, list]]:
    """The groups of the bootstrap section: ``(title, [(label, dir, reference dir, reference label)])``."""
    base = next((d for _, d, src in args.row if Path(d).name == "base"), None)
    groups = []
    if base:
        groups.append(("Table 1 and the peers, minus Base", [(label, d, base, "Base") for label, d, src in args.row
                                                             if src not in ("clean", "noisy") and d != base]))
    abl = [(label, d) for label, d, src in args.ablation_row if src not in ("clean", "noisy")]
    groups.append(("Data ablation, each minus the row before it",
                   [(label, d, ref_d, ref_l) for (ref_l, ref_d), (label, d) in zip(abl, abl[1:])]))
    twins = {label: d for label, d, _ in args.teacher_row if "_teacher-random" in Path(d).name}
    groups.append(("Teacher ablation, each minus the same mode with the random twin",
                   [(f"{label} ({Path(d).name})", d, twins[label], "random twin") for label, d, _ in args.teacher_row
                    if label in twins and d != twins[label] and Path(d).name != "base"]))
    noisy = next((d for _, d, src in args.row if src == "noisy"), None)
    if noisy:
        groups.append(("Table 2, minus the noisy input", [(label, d, noisy, "Noisy input") for label, d, _ in args.pretrain_row
                                                         if "(i)" not in label]))
    if base:
        bases = [d for _, d, _ in args.finetune_row if split_steps(Path(d).name)[0] == "base"]
        labels = {d: label for label, d, _ in args.finetune_row}
        matched = [(label, d, ref, labels[ref]) for label, d, _ in args.finetune_row if d not in bases
                   for ref in [matched_reference(d, bases)] if ref]
        groups.append(("Table 3, minus the Base of the same total steps (pre-training included)", matched))
        groups.append(("Table 3, minus the Base of Table 1 (unequal budgets)",
                       [(label, d, base, "Base") for label, d, _ in args.finetune_row if d not in bases]))
    return groups


def claims_section(args) -> list[str]:
    """The findings table (:mod:`.findings`) from the rows of the other tables."""
    base = next((d for _, d, src in args.row if Path(d).name == "base"), None)
    noisy = next((d for _, d, src in args.row if src == "noisy"), None)
    base_seeds = next((dirs.split() for _, dirs in args.seed_row if Path(dirs.split()[0]).name == "base"), None)
    spread = seed_spread(base_seeds, args.sets[0]) if base_seeds and len(base_seeds) > 1 else None
    width = max(spread["si_sdr"]) - min(spread["si_sdr"]) if spread and "si_sdr" in spread else None
    ev = Evidence(args.sets[0], width, args.analysis_dir)
    on_device = [(label, d) for label, d, src in args.row
                 if src.endswith(".pt") and not Path(d).name.startswith("concat")]
    table2 = [(label, d) for label, d, _ in args.pretrain_row if "(i)" not in label]
    teacher = [(label, d) for label, d in table2 if Path(d).name.startswith("pipeline_")]
    frozen = {Path(d).name.rsplit("_", 1)[-1]: d for _, d in table2 if Path(d).name.startswith("pretrain_dec_frozen_")}
    pairs = [(label, d, frozen[Path(d).name.rsplit("_", 1)[-1]]) for label, d in teacher
             if Path(d).name.rsplit("_", 1)[-1] in frozen]
    bases = [d for _, d, _ in args.finetune_row if split_steps(Path(d).name)[0] == "base"]
    t3 = [(label, d, ref) for label, d, _ in args.finetune_row if d not in bases
          for ref in [matched_reference(d, bases) or base] if ref]
    pretrained = [(label, d) for label, d, _ in args.pretrain_row + args.finetune_row]
    return (findings_section(ev, on_device, base, noisy, table2, teacher, pairs, t3)
            + readings_section(ev, pretrained, [(label, d) for label, d, _ in args.row]))


def write(args) -> int:
    """Write ``args.out`` from the parsed options of ``seslib.bin.results``; 1 (naming the file)
    when a row's scores are missing, or were made from other audio than is there now
    (:mod:`.freshness`, naming the stage to run again)."""
    rows = []
    published = {d: json.loads(j) for d, j in args.published}
    try:
        for d in [r[1] for r in args.ablation_row + args.corpus_row]:
            for t in args.sets:
                _summary(d, t)
        for d in [r[1] for r in args.row + args.teacher_row + args.pretrain_row + args.finetune_row + args.snr_row]:
            _summary(d, args.sets[0])  # the other sets where every row of the table has them
    except FileNotFoundError as exc:
        print(f"results: {exc}", file=sys.stderr)
        return 1
    dirs = [r[1] for r in args.row + args.ablation_row + args.corpus_row + args.teacher_row + args.pretrain_row
            + args.finetune_row + args.snr_row + args.decoded_row]
    stale = stale_scores(dirs + [d for _, ds in args.seed_row for d in ds.split()])
    if stale:
        print(f"results: {args.out} not written: scores made from other audio than the plan's:\n  "
              + "\n  ".join(stale), file=sys.stderr)
        return 1
    for label, system_dir, source in args.row:
        s = _summary(system_dir, args.sets[0])
        f = system_facts(source)
        ok = (None if f["causal"] is None else
              bool(f["causal"] and not f["ssl"] and f["parameters"] is not None and f["parameters"] < MAX_PARAMS))
        params = f["parameters"]
        lat = f["latency_ms"]
        rows.append(
            f"| {label} | {_fmt(s['pesq'], 2)} | {_fmt(s['stoi'], 2)} | {_fmt(s['si_sdr'], 1)} | "
            f"{_fmt(s.get('wer'), 1)} | {dnsmos_cells(s)} | {'–' if ok is None else ('✓' if ok else '✗')} | "
            f"{'–' if f['causal'] is None else ('yes' if f['causal'] else 'no')} | "
            f"{'–' if not params else f'{params / 1e6:.2f} M'} | "
            f"{'whole utterance' if lat == math.inf else ('–' if not lat else f'{lat:.0f} ms')} | "
            f"{'yes' if f['ssl'] else 'no'} | {budget_cell(system_dir)} | {s['utterances']} ({s.get('pesq_failures', 0)}) | "
            f"{_fmt(s.get('wer_sphinx'), 1)} / {_fmt(s.get('per_sphinx'), 1)} | {paper_cell(published, system_dir)} |")
    recipe = Path.cwd()
    md = [f"# {args.title}", ""]
    if args.note:
        md += [args.note, ""]
    md += ["| Model | PESQ | STOI | SI-SDR (dB) | WER (%) | DNSMOS SIG | BAK | OVRL | P.808 | Constr. | causal "
           "| parameters | algorithmic latency | SSL at inference | training steps / audio | utterances (PESQ failures) "
           "| PocketSphinx WER / PER (%) | paper: PESQ / STOI / SI-SDR |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|", *rows, "",
           "Constr. = causal, < 4 M parameters and no SSL model at inference (paper, Table 1), each derived: "
           "causality by a perturbation check, parameters counted (enhancer only), SSL use from the loaded model. "
           "PESQ is wide band; WER by the offline Whisper tiny.en (seslib.asr), corpus level; the clean "
           "reference row is the ASR's own error on the clean speech. PocketSphinx (seslib.asr_sphinx), a recogniser "
           "that shares nothing with a Whisper teacher: phone error rate where scored, WER for the clean speech. "
           "DNSMOS P.835 (SIG: speech, BAK: background, OVRL: overall) and P.808, seslib.dnsmos: estimated from the "
           "output alone, no reference; OVRL stays near 3.3 even for clean speech, so compare rows, not the "
           "scale's top. Training steps / audio: every optimiser step behind the model, pre-training included, "
           "and the hours of training audio those steps read (steps x batch x crop length). Paper: the numbers of "
           "the paper's Table 1 (arXiv 2403.01369; Wav2Vec2 teacher, DNS Challenge training data, 4 M steps of batch "
           "200, LibriSpeech test-clean at -5 dB): its setting, not this run's, so compare orders and gaps, not values.",
           ""]
    md += claims_section(args)
    if len(args.sets) > 1 and any((Path(r[1]) / f"score_{args.sets[1]}" / "summary.json").is_file() for r in args.row):
        md += heldout_section(args.row, args.sets)
    if "test_real" in args.sets:
        md += real_section(args.row + [r for r in args.corpus_row if r[1] not in {d for _, d, _ in args.row}],
                           "test_real", args.snr_sets, _summary)
    if args.ablation_row:
        md += ablation_section(args.ablation_row, args.sets, Path(args.stamp_dir))
    if args.corpus_row:
        md += corpus_section(args.corpus_row, args.sets, _summary, Path(args.stamp_dir), checkpoint_budget)
    if args.teacher_row:
        md += teacher_ablation_section(args.teacher_row, scored_sets(args.teacher_row, args.sets), _summary, _scores)
    if args.pretrain_row:
        md += table2_section(args.pretrain_row, scored_sets(args.pretrain_row, args.sets), _summary, _scores,
                             Path(args.stamp_dir), published)
    if args.finetune_row:
        md += table3_section(args.finetune_row, scored_sets(args.finetune_row, args.sets), _summary, _scores,
                             Path(args.stamp_dir), published)
    if args.snr_row:
        md += snr_section(args.snr_row, args.sets[0], [t for t in args.snr_sets if t.startswith("test_snr")], _summary)
    base_seeds = next((dirs.split() for _, dirs in args.seed_row if Path(dirs.split()[0]).name == "base"), None)
    md += intervals_section(comparisons(args), args.sets[0], base_seeds)
    if args.seed_row:
        md += seed_section(args.seed_row, args.sets[0], seed_cost(Path(args.stamp_dir), args.seed_row))
    if args.analysis_dir:
        fig_dir = Path(args.fig_dir) if args.fig_dir else Path(args.out).resolve().parent / "figures"
        md += analysis_section(Path(args.analysis_dir), args.student, args.decoded_row, _summary, args.sets[0],
                               Path(args.stamp_dir), fig_dir)
    teacher_md = content_check_section(args.teacher_check)
    if args.teacher_dir and Path(args.teacher_dir).is_dir():
        teacher_md += pretrain_section(Path(args.teacher_dir))
    if teacher_md:
        md += ["## Teachers", "", *teacher_md]
    md += ["## Environment", "", *environment(recipe), ""]
    times = stage_times(Path(args.stamp_dir))
    if times:
        # stage 2 of this run: the teacher pre-training when its table is shown, the content checks shown
        stage2 = {f"2_teacher_check_{Path(f).stem}" for f in args.teacher_check}
        if args.teacher_dir and Path(args.teacher_dir).is_dir():
            stage2.add("2_teacher")
        systems = [Path(r[1]).name for r in args.row + args.ablation_row + args.corpus_row + args.teacher_row + args.pretrain_row
                   + args.finetune_row + args.snr_row + args.decoded_row] + args.trained
        systems += [Path(d).name for _, dirs in args.seed_row for d in dirs.split()]
        if args.student:
            systems.append(Path(args.student).parent.name)
        md += ["## Stage wall times", "", "Per stage, the systems of these tables (run one after another, so the "
               "sum is the run's time when nothing else ran beside it):", "",
               "| stage | stamps | wall time |", "|---|---|---|",
               *stage_totals(Path(args.stamp_dir), systems, args.sets + args.snr_sets, stage2),
               "", "| stage | what | wall time | finished |", "|---|---|---|---|", *times, ""]
    atomic_write_text(args.out, "\n".join(md))
    print("\n".join(md))
    return 0

