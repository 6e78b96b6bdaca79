#!/usr/bin/env python3
"""How closely seslib's reading of a CTranslate2 Whisper encoder matches CTranslate2 itself.

  local/ct2_agreement.py [--teacher whisper-tiny.en] WAV [WAV ...]

Each file is padded to 30 s and turned into faster-whisper's log-mel; CTranslate2's own
float32 ``Whisper.encode`` and :class:`seslib.teacher.Teacher`'s encoder (the weights read
by seslib's model.bin reader into transformers' WhisperEncoder) encode the same features.
Prints, per file, the largest and mean absolute difference, the largest output magnitude
and the smallest per-frame cosine similarity.
"""
import argparse

import numpy as np
import soundfile as sf
import torch


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wavs", nargs="+", help="16 kHz wav files (at most 30 s)")
    p.add_argument("--teacher", default="whisper-tiny.en", help="a bundled name or a CTranslate2 Whisper dir")
    args = p.parse_args()
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor

    from seslib.teacher import BUNDLED, Teacher, bundled_dir
    torch.set_num_threads(1)
    model_dir = bundled_dir(args.teacher) if args.teacher in BUNDLED else args.teacher
    ours_model = Teacher(args.teacher)
    ref_model = ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type="float32")
    fe = FeatureExtractor(ours_model.encoder.frontend.mel.shape[0])
    for path in args.wavs:
        x, sr = sf.read(path, dtype="float32")
        if sr != 16000 or x.ndim != 1 or len(x) > 480000:
            raise SystemExit(f"{path}: need 16 kHz mono of at most 30 s")
        mel = fe(np.pad(x, (0, 480000 - len(x))), padding=0)[:, :3000]
        ref = np.array(ref_model.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))[0]
        with torch.no_grad():
            ours = ours_model.encoder.encode_mel(torch.from_numpy(mel)[None])[-1][0].numpy()
        d = np.abs(ours - ref)
        cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
        print(f"{path} ({len(x) / 16000:.2f} s): max |diff| {d.max():.2e}, mean |diff| {d.mean():.2e}, "
              f"max |output| {np.abs(ref).max():.2f}, min frame cosine {cos.min():.6f}")


if __name__ == "__main__":
    main()
