#!/usr/bin/env bash
# Recipe for "A Closer Look at Wav2Vec2 Embeddings for On-Device Single-Channel Speech
# Enhancement" (Shankar, Tan, Xu, Kumar, arXiv 2403.01369) on the embedded mini corpus or on the
# paper's DNS Challenge + LibriSpeech (db.sh). The stages are the shared se.sh (egs/TEMPLATE);
# this file turns the corpus options of this recipe into se.sh options. See README.md at the top.
set -euo pipefail
cd "$(dirname "$0")"
corpus=mini mini_conf=conf/data_mini.yaml            # --mini-conf FILE: size, voices, noises of mini
dns_train_hours=100 dns_valid_hours=1 dns_segment_seconds=10 dns_test_utts=500   # --dns-*: this recipe's DNS choices
dns_clean_dir= dns_noise_dir= dns_test_noise_dir= dns_keep_test_readers=false  # DNS: dirs not found by layout
rest=()
own='--corpus|--mini-conf|--dns-train-hours|--dns-valid-hours|--dns-segment-seconds|--dns-test-utts|--dns-clean-dir'
own+='|--dns-noise-dir|--dns-test-noise-dir|--dns-keep-test-readers'
while [ $# -gt 0 ]; do
  if [[ "$1" =~ ^($own)$ ]]; then
    [ $# -ge 2 ] || { echo "$0: $1 needs a value" 1>&2; exit 1; }
    v=${1#--}; printf -v "${v//-/_}" '%s' "$2"; shift 2; continue
  elif [[ "$1" =~ ^($own)= ]]; then
    v=${1%%=*}; v=${v#--}; printf -v "${v//-/_}" '%s' "${1#*=}"; shift; continue
  fi
  case "$1" in
    --help|-h) printf '%s\n' "Recipe options (egs/dns_wav2vec2/run.sh):" \
        "  --corpus mini|dns       embedded corpus synthesised offline, or DNS Challenge + LibriSpeech in db.sh" \
        "                          (default mini; egs/dns_wav2vec2/README.md)" \
        "  --mini-conf FILE        mini corpus config (default $mini_conf)" \
        "  --dns-train-hours H, --dns-valid-hours H, --dns-segment-seconds S, --dns-test-utts N  DNS: training and" \
        "                          validation hours, mixture length, test utterances" \
        "                          ($dns_train_hours, $dns_valid_hours, $dns_segment_seconds, $dns_test_utts)" \
        "  --dns-clean-dir D, --dns-noise-dir D  DNS: the clean speech and noise dirs, when DNS_ROOT's layout is none" \
        "                          of the releases' (local/dns_layouts.py lists them)" \
        "  --dns-test-noise-dir D  DNS: test noise clips, when the tree has no 2020 synthetic test set" \
        "  --dns-keep-test-readers true|false  keep DNS readers who are LibriSpeech test-clean speakers" \
        "                          [$dns_keep_test_readers]" \
        "The shared stages and their options (egs/TEMPLATE/se.sh):"; exec ./se.sh --help ;;
    *) rest+=("$1"); shift ;;
  esac
done
# per corpus: se.sh options that differ from its defaults (the options given to run.sh come after: they win)
case "$corpus" in
  mini) opts=(--local-data-opts "--mini-conf $mini_conf"  # the offline teacher's content against its random
          --teacher-check true) ;;   # twin (--teacher-ablation random also trains modes with the twin: opt-in)
  dns) . ./db.sh
    case "$dns_keep_test_readers" in true|false) ;; *) echo "$0: --dns-keep-test-readers true|false" 1>&2; exit 1 ;; esac
    dns_opts="--dns-test-utts $dns_test_utts --dns-keep-test-readers $dns_keep_test_readers"
    for o in clean_dir noise_dir test_noise_dir; do v=dns_$o; [ -z "${!v}" ] || dns_opts+=" --dns-${o//_/-} ${!v}"; done
    opts=(--train-hours "$dns_train_hours" --valid-hours "$dns_valid_hours" --segment-seconds "$dns_segment_seconds"
          --local-data-opts "$dns_opts"
          --teacher facebook/wav2vec2-base --feature-storage two-byte   # the paper's teacher; half the disk
          --device cuda) ;;  # teacher features and enhancement on the GPUs (training: conf/train_common_dns.yaml)
  *) echo "$0: --corpus must be mini or dns" 1>&2; exit 1 ;;
esac
# stage 0 is rebuilt when these inputs or this string change (mini: the real-recording configs and tools too)
real_inputs=
if [ "$corpus" = mini ]; then . ./path.sh
  real_confs=$(python -m seslib.bin.synth_sources real-confs --conf "$mini_conf") || exit 1
  for c in $real_confs; do [ "$c" = - ] || real_inputs+="$c "; done
  real_inputs+="local/real_noise.py local/real_voices.py local/debian_sounds.py"
fi
extra=
if [ "$corpus" = dns ]; then  # the corpus roots and the DNS options rebuild stage 0 when they change
  extra="$DNS_ROOT $LIBRISPEECH_ROOT ${dns_opts#--dns-test-utts $dns_test_utts}"
fi
[ "$corpus" = dns ] && real_inputs+="local/dns_layouts.py"
exec ./se.sh --corpus "$corpus" "${opts[@]}" --data-config "dns_test_utts=$dns_test_utts $extra" \
  --data-inputs "$mini_conf local/data.sh local/prep_dns.py $real_inputs" ${rest[@]+"${rest[@]}"}
