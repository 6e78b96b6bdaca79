# Environment of the recipe: the seslib virtualenv (installed by tools/install.sh on first use).
SESLIB_ROOT=${SESLIB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export SESLIB_ROOT
if ! "$SESLIB_ROOT/tools/install.sh" --check; then
  echo "$(date '+%F %T') path.sh: installing or updating the environment with tools/install.sh" 1>&2
  "$SESLIB_ROOT/tools/install.sh" 1>&2 || { echo "path.sh: tools/install.sh failed" 1>&2; exit 1; }
fi
# shellcheck disable=SC1091
. "$SESLIB_ROOT/tools/venv/bin/activate"
export PYTHONUNBUFFERED=1
export LC_ALL=C
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
