#!/usr/bin/env bash
# Make a new recipe dir egs/<name>/ from this template (as ESPnet's egs2/TEMPLATE/*/setup.sh).
set -euo pipefail
help_message="Usage: egs/TEMPLATE/setup.sh [--corpus NAME] egs/<name>

Makes egs/<name>/ for a new corpus. Shared, linked to egs/TEMPLATE (a fix there reaches every
recipe): se.sh (all stages), path.sh, cmd.sh (local jobs or Slurm; replace the link with a copy to
launch this recipe differently), utils/. Shared without a link: each system's config
(conf/modes/<system>.yaml at the top of the repository). The recipe's own, copied for you to edit:
run.sh (calls se.sh with the corpus name), db.sh (where the corpus is), conf/train_common.yaml
(budget and data pipeline of every system), conf/train_student.yaml (the student's steps), and
local/data.sh, a stub to replace with your data preparation: it writes data/local/<corpus>/
{train,valid,test}/ as speech + noise sources (stage 1 mixes them) or as ready noisy/clean pairs
(stage 1 imports them); its header states the contract.

Options:
  --corpus NAME   corpus name (default: the recipe dir's name up to its first '_')
  --help          this message"
corpus=
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) [ $# -ge 2 ] || { echo "$0: --corpus needs a value" 1>&2; exit 1; }; corpus=$2; shift 2 ;;
    --corpus=*) corpus=${1#*=}; shift ;;
    --help|-h) echo "$help_message"; exit 0 ;;
    -*) echo "$0: unknown option $1" 1>&2; echo "$help_message" 1>&2; exit 1 ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || { echo "$help_message" 1>&2; exit 1; }
template=$(cd "$(dirname "$0")" && pwd)
target=$1
[ -e "$target" ] && { echo "$0: $target already exists" 1>&2; exit 1; }
die() { echo "$0: $*" 1>&2; exit 1; }
parent=$(cd "$(dirname "$target")" 2>/dev/null && pwd) || die "$(dirname "$target") does not exist"
[ "$parent" = "$(dirname "$template")" ] || die "make the recipe beside the template, as egs/<name> (got $target)"
name=$(basename "$target")
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "recipe name '$name': use letters, digits, _ . -"
corpus=${corpus:-${name%%_*}}
[[ "$corpus" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "$0: --corpus '$corpus': use letters, digits, _ . -" 1>&2; exit 1; }

# built in a temporary dir beside the target and renamed: the recipe is complete or absent
tmp=$(mktemp -d "$parent/.$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod u=rwx,go=rx "$tmp"  # mktemp makes it private
mkdir -p "$tmp/conf" "$tmp/local"
ln -s ../TEMPLATE/se.sh "$tmp/se.sh"
ln -s ../TEMPLATE/path.sh "$tmp/path.sh"
ln -s ../../utils "$tmp/utils"
ln -s ../TEMPLATE/cmd.sh "$tmp/cmd.sh"
cp "$template"/conf/*.yaml "$tmp/conf/"
cp "$template/db.sh" "$tmp/"
cp "$template/local/data.sh" "$tmp/local/data.sh"
cat > "$tmp/run.sh" <<EOF
#!/usr/bin/env bash
# Recipe $name: the shared stages (egs/TEMPLATE/se.sh, linked as se.sh) on corpus '$corpus', whose
# data local/data.sh prepares. Recipe-wide option defaults go before "\$@"; ./run.sh --help lists them.
set -euo pipefail
cd "\$(dirname "\$0")"
exec ./se.sh --corpus $corpus "\$@"
EOF
chmod +x "$tmp/run.sh" "$tmp/local/data.sh"
mv "$tmp" "$parent/$name"
trap - EXIT
echo "$0: made $parent/$name (corpus '$corpus'). Next: write local/data.sh (its header says what to write),"
echo "  set db.sh and conf/train_common.yaml, then: cd $target && ./run.sh --stage 0 --stop-stage 1"
