#!/usr/bin/env bash
# Parse --option value pairs into shell variables (source this file after defining them).
#
#   --foo-bar x     sets foo_bar=x; foo_bar must already be defined (unknown options are an error)
#   --foo-bar=x     the same
#   --config FILE   sources FILE (shell assignments) first; later options override it
#   --help, -h      prints $help_message (on stdout, so that `--help | less` shows it all) and exits
# A variable whose current value is true or false only takes true or false; the variables named
# in $bool_auto_options take true, false or auto; $choice_options lists name=a|b|c: name takes a, b or c.
# Checked after parsing (also what --config set): the variables named in $int_options hold
# integers >= 0, those in $positive_options integers >= 1, and $stage <= $stop_stage where
# both exist; otherwise one message and exit 1.
# Parsing stops at the first argument that does not start with --; the rest stay in "$@".

while true; do
  [ $# -eq 0 ] && break
  case "$1" in
    --help|-h)
      if [ -z "${help_message:-}" ]; then echo "No help found." 1>&2; else printf '%s\n' "$help_message"; fi
      exit 0 ;;
    --config)
      [ $# -lt 2 ] && { echo "$0: --config needs a file" 1>&2; exit 1; }
      [ -f "$2" ] || { echo "$0: config file '$2' not found" 1>&2; exit 1; }
      # shellcheck disable=SC1090
      . "$2" || { echo "$0: could not source config file '$2'" 1>&2; exit 1; }
      shift 2 ;;
    --*=*)
      __opt="${1%%=*}"; __val="${1#*=}"; shift
      set -- "$__opt" "$__val" "$@" ;;
    --*)
      __name=$(echo "${1#--}" | tr '-' '_')
      if ! [[ "$__name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        echo "$0: invalid option $1" 1>&2; exit 1
      fi
      if [ -z "${!__name+set}" ]; then
        echo "$0: unknown option $1 (run $0 --help for the options)" 1>&2; exit 1
      fi
      [ $# -lt 2 ] && { echo "$0: option $1 needs a value" 1>&2; exit 1; }
      __old="${!__name}"
      if { [ "$__old" = true ] || [ "$__old" = false ]; } && [ "$2" != true ] && [ "$2" != false ]; then
        echo "$0: option $1 takes true or false, not '$2'" 1>&2; exit 1
      fi
      printf -v "$__name" '%s' "$2"
      shift 2 ;;
    *) break ;;
  esac
done
for __name in ${int_options:-} ${positive_options:-}; do
  if ! [[ "${!__name}" =~ ^[0-9]+$ ]]; then
    echo "$0: --${__name//_/-} must be a whole number (0, 1, 2, ...), not '${!__name}'" 1>&2; exit 1
  fi
done
for __name in ${bool_auto_options:-}; do
  case "${!__name}" in true|false|auto) ;; *)
    echo "$0: --${__name//_/-} takes true, false or auto, not '${!__name}'" 1>&2; exit 1 ;; esac
done
for __c in ${choice_options:-}; do
  __name=${__c%%=*}; [[ "${!__name}" != *"|"* && "|${__c#*=}|" == *"|${!__name}|"* ]] || {
    echo "$0: --${__name//_/-} takes ${__c#*=}, not '${!__name}'" 1>&2; exit 1; }
done
for __name in ${positive_options:-}; do
  [ "${!__name}" -ge 1 ] || { echo "$0: --${__name//_/-} must be at least 1, not '${!__name}'" 1>&2; exit 1; }
done
if [ -n "${stage+set}" ] && [ -n "${stop_stage+set}" ] && [[ "$stage" =~ ^[0-9]+$ ]] \
    && [[ "$stop_stage" =~ ^[0-9]+$ ]] && [ "$stage" -gt "$stop_stage" ]; then
  echo "$0: --stage $stage is after --stop-stage $stop_stage: nothing to run" 1>&2; exit 1
fi
unset __name __old __opt __val __c
true
