#!/usr/bin/env bash
# Recipe vbd_wav2vec2: the shared stages (egs/TEMPLATE/se.sh, linked as se.sh) on corpus 'vbd', whose
# data local/data.sh prepares. Recipe-wide option defaults go before "$@"; ./run.sh --help lists them.
set -euo pipefail
cd "$(dirname "$0")"
exec ./se.sh --corpus vbd "$@"
