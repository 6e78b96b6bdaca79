"""Teacher features: dumped to Kaldi ark/scp, or computed online in the training loop.

Dump layout (one directory per data dir, e.g. ``dump/<teacher>/train``)::

    meta.json                   teacher, hidden size, number of hidden states, hop
    clean_last.scp  noisy_last.scp  clean_all.scp  noisy_all.scp   (merged, absolute paths)
    clean_last/feats.<job>.ark  clean_last/feats.<job>.scp   ... per job

``clean`` is the teacher on the clean speech (``spk1.scp``: distillation targets), ``noisy``
on the mixture (``wav.scp``: concatenation input, triplet negatives). ``last`` is the last
transformer layer, ``[T, D]``; ``all`` every hidden state (CNN projection + each layer)
flattened to ``[T, (L + 1) * D]`` (Kaldi matrices are 2-D), reshaped back on reading.
Features are float32 (kaldiio writes no float16). Each utterance is run whole, padded as
:class:`seslib.teacher.Teacher` pads, so frame ``t`` covers samples ``[320 t, 320 t + 400)``.

A job writes its ark under the final name, then its scp to a temporary file renamed into
place: a job's scp exists only when its ark is complete, and a rerun skips those jobs.

Reading for training (:class:`DumpedFeatures`): a crop starting at sample ``off`` (a
multiple of the 320-sample hop, see :class:`seslib.train.crops.CropSampler`'s ``align``)
takes frames ``[off / 320, off / 320 + T)`` of the whole-utterance features, zero-padded
past the utterance end. :class:`OnlineFeatures` instead runs the teacher on the crop
itself (for dynamic mixing, or sets too large to dump); its frames then see only the
crop, while dumped frames see the whole utterance.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from . import audio, stft
from .data import read_kv
from .engine import module_device

log = logging.getLogger(__name__)

KINDS = {"clean": "spk1.scp", "noisy": "wav.scp"}
LAYERS = ("last", "all")


def feature_key(kind: str, layers: str) -> str:
    """``"clean_last"``, ``"noisy_all"``, ...: the name of a feature stream."""
    if kind not in KINDS or layers not in LAYERS:
        raise ValueError(f"no feature stream {kind}_{layers}; kinds {sorted(KINDS)}, layers {LAYERS}")
    return f"{kind}_{layers}"


def _job_utts(data_dir: Path, job: int, nj: int) -> list[str]:
    return sorted(read_kv(data_dir / "wav.scp"))[job - 1::nj]


#: ``dump_features --storage``: Kaldi matrix storage through kaldiio (None: float32 as computed;
#: 3: kTwoByteAuto, 2 bytes a value over one range per matrix; 2: kSpeechFeature, about 1 byte a
#: value with a per-column quantile code, Kaldi's compression for features)
STORAGE = {"float32": None, "two-byte": 3, "speech-feature": 2}


def stream_pairs(kinds=tuple(KINDS), layers=LAYERS, streams=None) -> list[tuple[str, str]]:
    """``(kind, layers)`` of the streams to dump: ``streams`` (keys such as ``clean_last``) when
    given, else every kind with every layer choice."""
    if streams:
        out = []
        for key in streams:
            kind, _, la = key.partition("_")
            feature_key(kind, la)  # raises on an unknown stream
            out.append((kind, la))
        return out
    return [(k, la) for k in kinds for la in layers]


def dump_job(teacher, data_dir, out_dir, job: int, nj: int, kinds=("clean", "noisy"), layers=LAYERS,
             progress: bool = True, streams=None, storage: str = "float32") -> int:
    """Dump the features of job ``job`` of ``nj`` (every ``nj``-th utterance); returns how
    many streams were written (finished ones are skipped).

    Args:
        teacher: a :class:`seslib.teacher.Teacher` with ``layers="all"``.
    """
    import kaldiio
    from tqdm import tqdm

    data_dir, out_dir = Path(data_dir), Path(out_dir).resolve()
    todo = [(k, la) for k, la in stream_pairs(kinds, layers, streams)
            if not (out_dir / feature_key(k, la) / f"feats.{job}.scp").is_file()]
    if not todo:
        return 0
    utts = _job_utts(data_dir, job, nj)
    device = module_device(teacher)  # the teacher runs where it was put (dump_features --device)
    for kind in sorted({k for k, _ in todo}):
        table = read_kv(data_dir / KINDS[kind])
        streams = [la for k, la in todo if k == kind]
        arks = {la: out_dir / feature_key(kind, la) / f"feats.{job}.ark" for la in streams}
        for p in arks.values():
            p.parent.mkdir(parents=True, exist_ok=True)
        scp_tmp = {la: p.with_suffix(".scp.tmp") for la, p in arks.items()}
        writers = {la: kaldiio.WriteHelper(f"ark,scp:{arks[la]},{scp_tmp[la]}", compression_method=STORAGE[storage])
                   for la in streams}
        try:
            with torch.no_grad():
                for utt in tqdm(utts, desc=f"dump {kind} job {job}", disable=not progress, mininterval=5,
                                unit="utt"):
                    if utt not in table:
                        raise ValueError(f"{data_dir / KINDS[kind]}: no entry for utterance {utt}")
                    x = torch.from_numpy(audio.read_audio(table[utt], utt=utt))[None].to(device)
                    h = teacher(x)[0].float().cpu()  # [L+1, T, D]
                    for la, w in writers.items():
                        m = h[-1] if la == "last" else h.permute(1, 0, 2).reshape(h.shape[1], -1)
                        w(utt, m.contiguous().numpy().astype(np.float32))
        finally:
            for w in writers.values():
                w.close()
        for la in streams:  # the scp appears only once its ark is complete
            os.replace(scp_tmp[la], arks[la].with_suffix(".scp"))
    return len(todo)


def write_meta(teacher, out_dir, storage: str = "float32") -> None:
    from .fileutil import atomic_write_text
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(out_dir) / "meta.json", json.dumps(
        {"teacher": teacher.name, "dim": teacher.dim, "num_hidden": teacher.num_hidden, "hop": stft.HOP,
         "storage": storage}, indent=1))


def merge_jobs(out_dir, nj: int, kinds=("clean", "noisy"), layers=LAYERS, streams=None) -> dict[str, int]:
    """Merge the job scps into ``<kind>_<layers>.scp``; returns utterances per stream.

    Raises:
        FileNotFoundError: naming the jobs that have not finished.
    """
    from .data import merge_scp
    out_dir = Path(out_dir)
    counts = {}
    for k, la in stream_pairs(kinds, layers, streams):
        key = feature_key(k, la)
        parts = [out_dir / key / f"feats.{j}.scp" for j in range(1, nj + 1)]
        missing = [str(p) for p in parts if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"unfinished dump jobs (no scp): {', '.join(missing)}")
        merge_scp(parts, out_dir / f"{key}.scp")
        counts[key] = len(read_kv(out_dir / f"{key}.scp"))
    return counts


def disk_usage(path) -> int:
    """Bytes of all files below ``path``."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def check_arks(scp) -> None:
    """Cheap integrity check of the arks an scp points into: the matrix at each ark's last offset
    loads (a truncated ark fails there).

    Raises:
        ValueError: naming the ark and the scp.
    """
    import kaldiio
    last: dict[str, tuple[int, str]] = {}
    for line in Path(scp).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        utt, _, where = line.strip().partition(" ")
        ark, _, off = where.strip().rpartition(":")
        if ark and off.isdigit() and int(off) >= last.get(ark, (-1, ""))[0]:
            last[ark] = (int(off), utt)
    for ark, (off, utt) in last.items():
        try:
            kaldiio.load_mat(f"{ark}:{off}")
        except Exception as exc:  # kaldiio raises bare AssertionError/EOFError/ValueError on damage
            size = Path(ark).stat().st_size if Path(ark).is_file() else "no"
            raise ValueError(f"{ark} ({size} bytes) is damaged: the features of utterance {utt} at offset {off} "
                             f"do not load ({type(exc).__name__}: {exc}); it is listed in {scp}; dump the teacher "
                             f"features again") from None


class DumpedFeatures:
    """Crops of dumped features.

    Args:
        dump_dir: a dump directory (see the module docstring).
        keys: the streams to open, e.g. ``["clean_last", "noisy_all"]``.

    Shape:
        :meth:`crop` -> ``[T, D]`` (last) or ``[L + 1, T, D]`` (all).
    """

    def __init__(self, dump_dir, keys):
        import kaldiio
        self.dir = Path(dump_dir)
        meta_path = self.dir / "meta.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{self.dir}: no meta.json; dump the teacher features first "
                                    "(python -m seslib.bin.dump_features)")
        self.meta = json.loads(meta_path.read_text())
        self.tables = {}
        for key in keys:
            scp = self.dir / f"{key}.scp"
            if not scp.is_file():
                raise FileNotFoundError(f"{scp} does not exist; dump the '{key}' features first")
            self.tables[key] = kaldiio.load_scp(str(scp))
            check_arks(scp)

    def crop(self, key: str, utt: str, offset: int, n_frames: int) -> torch.Tensor:
        if offset % stft.HOP:
            raise ValueError(f"crop offset {offset} of {utt} is not a multiple of the {stft.HOP}-sample hop")
        try:
            m = self.tables[key][utt]
        except KeyError:
            raise KeyError(f"{self.dir / (key + '.scp')}: no features for utterance {utt}") from None
        except Exception as exc:  # kaldiio's bare AssertionError/EOFError on a damaged ark
            raise ValueError(f"{self.dir / (key + '.scp')}: the features of utterance {utt} do not load "
                             f"({type(exc).__name__}: {exc}): the dump is damaged; dump it again") from None
        f0 = offset // stft.HOP
        seg = np.zeros((n_frames, m.shape[1]), dtype=np.float32)
        part = m[f0:f0 + n_frames]
        seg[:len(part)] = part
        t = torch.from_numpy(seg)
        if key.endswith("_all"):
            t = t.reshape(n_frames, self.meta["num_hidden"], self.meta["dim"]).permute(1, 0, 2)
        return t

    def batch(self, keys, plan, crop: int) -> dict[str, torch.Tensor]:
        """Features of a batch of crops ``plan = [(utt, offset), ...]`` of ``crop`` samples."""
        n = stft.num_frames(stft.padded_length(crop))
        return {k: torch.stack([self.crop(k, u, off, n) for u, off in plan]) for k in keys}


class OnlineFeatures:
    """Teacher features of the batch's own audio (the teacher runs on each crop).

    Args:
        teacher: a :class:`seslib.teacher.Teacher` with ``layers="all"``.
    """

    def __init__(self, teacher):
        self.teacher = teacher

    @torch.no_grad()
    def batch(self, keys, audio_by_kind: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for kind in sorted({k.split("_")[0] for k in keys}):
            h = self.teacher(audio_by_kind[kind])  # [B, L+1, T, D]
            for la in ("last", "all"):
                if f"{kind}_{la}" in keys:
                    out[f"{kind}_{la}"] = h[:, -1] if la == "last" else h
        return out
