#!/usr/bin/env bash
# Data preparation of this recipe (stage 0 of se.sh). Its one contract: write, for each set
# (train, valid, test, and any other test set named test_<something>), a Kaldi-style dir under
# --out in one of two shapes:
#
#   sources (stage 1 mixes them at the recipe's SNRs):
#     speech.scp  id -> clean speech file        noise.scp  id -> noise file
#     speech2spk  id -> speaker (optional)       speech.text  id -> transcript (optional, for WER)
#   pairs (already mixed; stage 1 checks and imports them):
#     wav.scp     utt -> noisy recording         spk1.scp  utt -> clean speech, sample-aligned
#     utt2spk     utt -> speaker (optional)      text      utt -> transcript (optional, for WER)
#
# One "id path" per line, sorted (LC_ALL=C sort), ids unique; audio in any format soundfile
# reads, any sample rate (read at 16 kHz). Write into --out only (stage 0 deletes it when it
# rebuilds). Replace the body below with your corpus: see egs/dns_wav2vec2/local/data.sh
# (sources) and egs/vbd_wav2vec2/local/data.sh (pairs).
set -euo pipefail
corpus=; out=; nj=1; seed=1
help_message="Usage: $0 --corpus NAME --out DIR [--nj N] [--seed N]
  --corpus NAME   the recipe's corpus name
  --out DIR       where the set dirs go (data/local/<corpus>)
  --nj N          parallel jobs you may use (default $nj)
  --seed N        seed of any random split (default $seed)"
. ./cmd.sh
. utils/parse_options.sh
[ -n "$out" ] || { echo "$help_message" 1>&2; exit 1; }
. ./db.sh
echo "$0: write $out/{train,valid,test}/ from $CORPUS_ROOT here (see the comment at the top)" 1>&2
exit 1
