"""Models: the GCRN enhancer (and, in later stages, the discriminator and the student)."""
from .gcrn import GCRN, GCRNStreamer, enhance_streaming

__all__ = ["GCRN", "GCRNStreamer", "enhance_streaming"]
