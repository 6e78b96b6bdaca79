#!/usr/bin/env bash
# Merge scp parts (sorted, duplicate keys rejected): utils/merge_scp.sh OUT.scp IN.1.scp ... IN.N.scp
exec python -m seslib.bin.data_dir merge "$@"
