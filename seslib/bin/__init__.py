"""Command-line entry points called by the recipes: ``python -m seslib.bin.<name> --help``."""
