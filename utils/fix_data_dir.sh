#!/usr/bin/env bash
# Make a data dir consistent (intersection of utterances, sorted, spk2utt rebuilt; originals in DIR/.backup).
# Usage: utils/fix_data_dir.sh [--utt-list FILE] DIR
exec python -m seslib.bin.data_dir fix "$@"
