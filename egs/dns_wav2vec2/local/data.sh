#!/usr/bin/env bash
# Stage 0 of the recipe: write the speech and noise *source dirs* of a corpus,
#   <out>/{train,valid,test}/{speech.scp,speech2spk,speech.text,noise.scp}
# which stage 1 mixes. The only corpus-specific part of the recipe.
set -euo pipefail

corpus=mini        # mini: synthesised offline; dns: DNS Challenge + LibriSpeech test-clean (db.sh)
out=               # default data/local/<corpus>
nj=2               # parallel jobs (mini)
mini_conf=conf/data_mini.yaml
real_dir=data/local/real  # mini: real recordings (Debian packages, their .deb files), kept across rebuilds
dns_valid_fraction=0.02     # share of DNS readers held out for validation
dns_test_noise_fraction=0.1 # share of DNS noise files held out for the test set
dns_test_utts=500           # LibriSpeech test-clean utterances in the test set (paper: 500)
dns_clean_dir= dns_noise_dir=  # DNS: the clean speech and noise dirs (default: found under DNS_ROOT by release layout)
dns_test_noise_dir=         # DNS: test noise clips when the tree has no 2020 synthetic test set
dns_keep_test_readers=false # DNS: keep readers who are LibriSpeech test-clean speakers in train/valid
seed=1

help_message="Usage: $0 [options]
  --corpus mini|dns        corpus to prepare (default $corpus)
  --out DIR                output dir (default data/local/<corpus>)
  --nj N                   parallel jobs for synthesis (default $nj)
  --mini-conf FILE         YAML config of the mini corpus (default $mini_conf)
  --real-dir DIR           mini: where the real noises and voices are unpacked and converted (default $real_dir)
  --dns-valid-fraction F   DNS readers held out for validation (default $dns_valid_fraction)
  --dns-test-noise-fraction F  DNS noise files held out for test (default $dns_test_noise_fraction)
  --dns-test-utts N        test-clean utterances in the test set (default $dns_test_utts)
  --dns-clean-dir D, --dns-noise-dir D  the clean speech and noise dirs (default: found under DNS_ROOT;
                           local/dns_layouts.py lists the releases' layouts)
  --dns-test-noise-dir D   test noise clips when the tree has no 2020 synthetic test set
  --dns-keep-test-readers true|false  keep DNS readers who are LibriSpeech test-clean speakers (default $dns_keep_test_readers)
  --seed N                 seed (default $seed)"

. ./cmd.sh
. utils/parse_options.sh
[ $# -ne 0 ] && { echo "$0: unexpected arguments: $*" 1>&2; echo "$help_message" 1>&2; exit 1; }
out=${out:-data/local/$corpus}
mkdir -p "$out/log"

case "$corpus" in
  mini)
    read -r noise_conf voice_conf < <(python -m seslib.bin.synth_sources real-confs --conf "$mini_conf")
    real=()  # real recordings from Debian packages (local/real_noise.py, local/real_voices.py)
    if [ "$noise_conf" != - ]; then
      python local/real_noise.py --conf "$noise_conf" --out "$real_dir/noise" --deb-dir "$real_dir/debs"
      real+=(--real-noise "$real_dir/noise/noise_list.tsv")
    fi
    if [ "$voice_conf" != - ]; then
      python local/real_voices.py --conf "$voice_conf" --out "$real_dir/voices" --deb-dir "$real_dir/debs"
      real+=(--real-voices "$real_dir/voices/voice_list.tsv")
    fi
    python -m seslib.bin.synth_sources plan --out "$out" --conf "$mini_conf" ${real[@]+"${real[@]}"}
    $train_cmd JOB=1:"$nj" "$out/log/speech.JOB.log" \
      python -m seslib.bin.synth_sources speech --out "$out" --job JOB --num-jobs "$nj"
    $train_cmd JOB=1:"$nj" "$out/log/noise.JOB.log" \
      python -m seslib.bin.synth_sources noise --out "$out" --job JOB --num-jobs "$nj"
    python -m seslib.bin.synth_sources finalize --out "$out"
    ;;
  dns)
    . ./db.sh
    dirs=()
    for o in clean_dir noise_dir; do v=dns_$o; [ -z "${!v}" ] || dirs+=("--dns-${o//_/-}" "${!v}"); done
    [ -z "$dns_test_noise_dir" ] || dirs+=(--test-noise-dir "$dns_test_noise_dir")
    [ "$dns_keep_test_readers" = true ] && dirs+=(--keep-test-readers)
    python local/prep_dns.py --dns-root "$DNS_ROOT" --librispeech-root "$LIBRISPEECH_ROOT" --out "$out" \
      --valid-fraction "$dns_valid_fraction" --test-noise-fraction "$dns_test_noise_fraction" \
      --test-utts "$dns_test_utts" --seed "$seed" --nj "$nj" ${dirs[@]+"${dirs[@]}"}
    ;;
  *) echo "$0: unknown corpus '$corpus' (mini or dns)" 1>&2; exit 1 ;;
esac
