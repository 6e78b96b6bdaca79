"""Whether the scores a results table reads were made from the audio that is there now.

Every score dir of ``seslib.bin.score`` records the content hash of the hypotheses, references
and transcripts it scored, and every enhanced dir of ``seslib.bin.enhance`` that of its input
(seslib.provenance). A test set mixed again, or a model retrained, after its scores were made
leaves them describing other audio: the results stage then refuses to write, naming the stage
that makes them again, instead of printing old numbers beside a new test set.
"""
from __future__ import annotations

from pathlib import Path

from ... import provenance
from ...audio import AudioError
from ...data import DataDirError, read_kv
from ...score_inputs import current_identity


def _enhanced_stale(hyp: Path) -> bool:
    """Whether ``hyp`` is an enhanced dir whose input audio changed since it was enhanced."""
    rec = provenance.read(hyp if hyp.is_dir() else hyp.parent)
    src = (rec or {}).get("read_from") or {}
    if (rec or {}).get("tool") != "enhance" or not src.get("data_dir"):
        return False
    try:
        return provenance.stale(hyp if hyp.is_dir() else hyp.parent,
                                provenance.files_identity(read_kv(Path(src["data_dir"]) / src["input_scp"])))
    except (DataDirError, OSError):
        return True


def stale_scores(system_dirs) -> list[str]:
    """One line for each ``score_*`` dir below ``system_dirs`` whose recorded inputs differ from
    the files there now, naming the stage to run again (4 when the enhanced audio is stale too).
    Score dirs without a record are not judged."""
    problems = []
    for d in dict.fromkeys(map(str, system_dirs)):
        for sc in sorted(Path(d).glob("score_*")):
            rec = provenance.read(sc)
            if not rec or "read_from" not in rec or not (sc / "summary.json").is_file():
                continue
            hyp = Path(rec["read_from"]["hyp"])
            try:
                changed = current_identity(rec["read_from"]) != rec.get("inputs")
            except (DataDirError, AudioError, OSError) as exc:
                changed, why = True, f"its inputs cannot be read now ({exc})"
            else:
                ref = rec["read_from"].get("ref_dir")
                why = f"it was scored from other audio than {hyp}" + (f" and {ref}" if ref else "") + " hold now"
            if changed:
                stage = 4 if _enhanced_stale(hyp) else 5
                problems.append(f"{sc}: {why}; run stages {stage}-7 again (run.sh --stage {stage} --stop-stage 7, "
                                "with this run's other options)")
    return problems
