"""Logging set-up shared by the command-line tools."""
import logging
import sys


def setup(verbose: bool = False) -> None:
    """Log to stderr as ``time LEVEL (module) message``, INFO (or DEBUG) and above."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)s (%(name)s) %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
