#!/usr/bin/env bash
# Check a data dir: sorted unique keys, files agree, spk2utt matches utt2spk, audio exists.
# Usage: utils/validate_data_dir.sh DIR [--check-audio none|exists|header] [--require FILE...]
exec python -m seslib.bin.data_dir validate "$@"
