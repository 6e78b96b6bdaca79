#!/usr/bin/env bash
# Mix a source dir into a data dir with parallel jobs:
#   plan (seeded) -> JOB=1:N render (resumable) -> finalize + validate.
# Usage: utils/mix_data_dir.sh [options] SOURCE_DIR OUT_DIR
set -euo pipefail
cmd="utils/launch.sh --backend local"
nj=2
tag=
seed=0
snr="-5 5"
snr_definition=global
level="-35 -15"
segment_seconds=0
num_utts=0
help_message="Usage: $0 [options] SOURCE_DIR OUT_DIR
  --cmd CMD              job launcher (default: $cmd)
  --nj N                 parallel jobs (default $nj)
  --tag NAME             set name in utterance ids (default: basename of OUT_DIR)
  --seed N               plan seed (default $seed)
  --snr 'LO HI'          SNR range, dB; 'X X' for a fixed SNR (default '$snr')
  --snr-definition D     global (whole-signal power) or active (active windows) (default $snr_definition)
  --level 'LO HI'        target level range, dBFS (default '$level')
  --segment-seconds S    0: whole speech sources; >0: --num-utts random segments of S seconds
  --num-utts N           number of segments (with --segment-seconds)"
. "$(dirname "$0")/parse_options.sh"
[ $# -ne 2 ] && { echo "$help_message" 1>&2; exit 1; }
src=$1; out=$2
tag=${tag:-$(basename "$out")}
mkdir -p "$out/log"
# shellcheck disable=SC2086
python -m seslib.bin.mix_data plan --sources "$src" --out "$out" --tag "$tag" --seed "$seed" \
  --snr $snr --snr-definition "$snr_definition" --level $level --segment-seconds "$segment_seconds" --num-utts "$num_utts"
$cmd JOB=1:"$nj" "$out/log/mix.JOB.log" python -m seslib.bin.mix_data render --out "$out" --job JOB --num-jobs "$nj"
python -m seslib.bin.mix_data finalize --out "$out"
