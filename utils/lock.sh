#!/usr/bin/env bash
# One run per recipe dir. Source this file, then: recipe_lock exp/run.lock "COMMAND LINE"
# Takes an exclusive flock on the file (fd 9, exported as SESLIB_LOCK_FD: every stage and job the
# run starts keeps it open, so jobs that outlive a killed run.sh still hold it) and writes who holds it to
# FILE.info. A second run exits at once naming the holder's pid and command; a lock whose
# holder is gone (killed, crashed) is free to flock and is taken over with a message.
recipe_lock() {
  local lock=$1 cmd=$2 info=$1.info holder
  mkdir -p "$(dirname "$lock")"
  exec 9>>"$lock"
  export SESLIB_LOCK_FD=9
  if ! flock -n 9; then
    holder=$(cat "$info" 2>/dev/null || echo "jobs of an earlier run still hold $lock (fuser -v $lock lists them)")
    echo "$0: another run is using this recipe dir ($PWD): $holder" 1>&2
    case "$holder" in
      pid\ *) kill -0 "$(echo "$holder" | awk '{print $2}' | tr -d ,)" 2>/dev/null \
          || echo "$0: that pid is gone, but processes it started still hold $lock (fuser -v $lock lists them)" 1>&2 ;;
    esac
    echo "$0: wait for it to finish, or stop it, then run again" 1>&2
    exit 1
  fi
  if [ -s "$info" ]; then
    echo "$(date '+%F %T') $0: taking over the lock of a run that ended without releasing it: $(cat "$info")" 1>&2
  fi
  printf 'pid %s, started %s: %s\n' "$$" "$(date '+%F %T')" "$cmd" > "$info"
  # shellcheck disable=SC2064
  trap "rm -f '$info'" EXIT
}
