#!/usr/bin/env bash
# Run a recipe stage with skip-when-done and resume: see `python -m seslib.stages --help`.
# Usage: utils/stage.sh --name N [--title T] [--inputs ...] [--outputs ...] [--config S] [--force] -- CMD...
exec python -m seslib.stages "$@"
