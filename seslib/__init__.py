"""seslib: speech enhancement with Wav2Vec2 embeddings, a small recipe library.

Pure functions and ``nn.Module`` s; the recipe logic lives in ``egs/*/run.sh`` and the
command-line tools of :mod:`seslib.bin`.
"""
__version__ = "0.1.0"
