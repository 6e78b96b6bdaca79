#!/usr/bin/env bash
# Split an scp into N contiguous parts: utils/split_scp.sh IN.scp OUT.1.scp ... OUT.N.scp
exec python -m seslib.bin.data_dir split "$@"
