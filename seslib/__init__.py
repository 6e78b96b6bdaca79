"""seslib: speech enhancement with Wav2Vec2 embeddings, a small recipe library.

Pure functions and ``nn.Module`` s, in layers (docs/design.md); a run's plan is made by
:mod:`seslib.recipe` and executed by the stages of ``egs/TEMPLATE/se.sh``; :mod:`seslib.bin`
holds the command-line tools.
"""
__version__ = "0.1.0"
