#!/usr/bin/env bash
# Data preparation of VoiceBank-DEMAND (28 speakers): ready noisy/clean pairs at 48 kHz (read at
# 16 kHz), so it writes pair dirs (wav.scp noisy, spk1.scp clean, utt2spk, text) for stage 1 to
# import: train (26 speakers), valid (--valid-speakers, held out by speaker), test (p232, p257).
set -euo pipefail
corpus=vbd; out=; nj=1; seed=1
valid_speakers="p226 p287"
help_message="Usage: $0 --out DIR [--valid-speakers 'p226 p287']
  --out DIR                 where train/, valid/, test/ go (data/local/vbd)
  --valid-speakers S,S,...  training speakers held out for validation, by commas or spaces (default '$valid_speakers';
                            through run.sh: --local-data-opts '--valid-speakers p226,p287')
  --corpus, --nj, --seed    given by se.sh; unused here (the split is by speaker, not random)
The corpus root is VBD_ROOT in db.sh."
. ./cmd.sh
. utils/parse_options.sh
[ -n "$out" ] || { echo "$help_message" 1>&2; exit 1; }
. ./db.sh
python local/prep_vbd.py --root "$VBD_ROOT" --out "$out" --valid-speakers "$valid_speakers"
