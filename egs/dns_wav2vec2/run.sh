#!/usr/bin/env bash
# Recipe for "A Closer Look at Wav2Vec2 Embeddings for On-Device Single-Channel Speech
# Enhancement" (Shankar, Tan, Xu, Kumar, arXiv 2403.01369). See README.md at the top.
set -euo pipefail

stage=0
stop_stage=1
corpus=mini          # mini: embedded corpus synthesised offline; dns: DNS Challenge + LibriSpeech (db.sh)
nj=2                 # parallel jobs
force=false          # rerun the selected stages even when done
seed=1
mini_conf=conf/data_mini.yaml   # size, voices and noises of the mini corpus
train_snr="-5 5"     # paper, Sec. 3.1: train and valid mixed at uniform -5..5 dB
test_snr="-5 -5"     # paper, Sec. 3.1: test at a fixed -5 dB
dns_train_hours=100  # DNS: hours of training mixtures
dns_valid_hours=1    # DNS: hours of validation mixtures
dns_segment_seconds=10  # DNS: length of each mixture cut from the clean files
dns_test_utts=500    # DNS: LibriSpeech test-clean utterances in the test set (paper: 500)

help_message="Usage: $0 [options]
Stages:
  0  sources: speech and noise of the corpus -> data/local/<corpus>/{train,valid,test}
     (mini: synthesised offline; dns: scanned from DNS_ROOT and LIBRISPEECH_ROOT in db.sh)
  1  mixtures: noisy/clean/noise data dirs -> data/{train,valid,test}
     (train/valid SNR uniform in train_snr, test at test_snr; validated)
Options:
  --stage N               first stage to run (default $stage)
  --stop-stage N          last stage to run (default $stop_stage)
  --corpus mini|dns       corpus (default $corpus)
  --nj N                  parallel jobs (default $nj)
  --force true|false      rebuild the selected stages from scratch, even when done (default $force)
  --seed N                seed of corpus and mixing plans (default $seed)
  --mini-conf FILE        mini corpus config (default $mini_conf)
  --train-snr 'LO HI'     train/valid SNR range in dB (default '$train_snr')
  --test-snr 'LO HI'      test SNR range in dB (default '$test_snr')
  --dns-train-hours H     DNS training hours (default $dns_train_hours)
  --dns-valid-hours H     DNS validation hours (default $dns_valid_hours)
  --dns-segment-seconds S DNS mixture length (default $dns_segment_seconds)
  --dns-test-utts N       DNS test set size (default $dns_test_utts)
  --config FILE           shell file of option assignments, read before the options after it
A finished stage whose inputs and config are unchanged is skipped; one whose inputs or
config changed is rebuilt from scratch; a killed stage resumes where it stopped."

cd "$(dirname "$0")"
. ./cmd.sh
. utils/parse_options.sh
[ $# -ne 0 ] && { echo "$0: unexpected arguments: $*" 1>&2; exit 1; }
case "$corpus" in mini|dns) ;; *) echo "$0: --corpus must be mini or dns" 1>&2; exit 1 ;; esac
. ./path.sh

src=data/local/$corpus
force_opt=(); [ "$force" = true ] && force_opt=(--force)
run_stage() { python -m seslib.stages --stamp-dir exp/stages "${force_opt[@]}" "$@"; }
selected() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

if selected 0; then
  run_stage --name 0_sources --title "speech and noise sources, corpus $corpus" \
    --inputs "$mini_conf" local/data.sh local/prep_dns.py \
    --config "corpus=$corpus seed=$seed dns_test_utts=$dns_test_utts $( [ "$corpus" = dns ] && . ./db.sh && echo "$DNS_ROOT $LIBRISPEECH_ROOT")" \
    --outputs "$src/train/speech.scp" "$src/valid/speech.scp" "$src/test/speech.scp" --scratch "$src" -- \
    local/data.sh --corpus "$corpus" --out "$src" --nj "$nj" --mini-conf "$mini_conf" --seed "$seed" \
      --dns-test-utts "$dns_test_utts"
fi

if selected 1; then
  if [ "$corpus" = dns ]; then
    seg=(--segment-seconds "$dns_segment_seconds")
    ntrain=$(python -c "print(round($dns_train_hours * 3600 / $dns_segment_seconds))")
    nvalid=$(python -c "print(round($dns_valid_hours * 3600 / $dns_segment_seconds))")
  else
    seg=(); ntrain=0; nvalid=0
  fi
  run_stage --name 1_mix --title "mixtures: train/valid at $train_snr dB, test at $test_snr dB" \
    --inputs "$src" \
    --config "corpus=$corpus seed=$seed train_snr=$train_snr test_snr=$test_snr seg=${seg[*]} $ntrain $nvalid" \
    --outputs data/train/wav.scp data/valid/wav.scp data/test/wav.scp --scratch data/train data/valid data/test -- \
    bash -c "set -e
      utils/mix_data_dir.sh --cmd \"$train_cmd\" --nj $nj --seed $((seed * 10 + 1)) --snr '$train_snr' \
        ${seg[*]} --num-utts $ntrain $src/train data/train
      utils/mix_data_dir.sh --cmd \"$train_cmd\" --nj $nj --seed $((seed * 10 + 2)) --snr '$train_snr' \
        ${seg[*]} --num-utts $nvalid $src/valid data/valid
      utils/mix_data_dir.sh --cmd \"$train_cmd\" --nj $nj --seed $((seed * 10 + 3)) --snr '$test_snr' \
        $src/test data/test
      for s in train valid test; do utils/validate_data_dir.sh data/\$s --require spk1.scp noise1.scp utt2num_samples; done"
fi
