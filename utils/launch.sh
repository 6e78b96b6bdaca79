#!/usr/bin/env bash
# Kaldi-style job launcher: utils/launch.sh [--backend local] [--max-jobs-run K] JOB=1:N LOG CMD...
# Every JOB in LOG and CMD becomes the job index; see `utils/launch.sh --help`.
exec python -m seslib.launcher "$@"
