"""Offline synthesis of speech and noise sources for corpora that must build without downloads."""
