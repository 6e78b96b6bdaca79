#!/usr/bin/env bash
# The shared recipe (egs/TEMPLATE/se.sh, linked into every egs/<name>/): the experiments of "A Closer
# Look at Wav2Vec2 Embeddings for On-Device Single-Channel Speech Enhancement" (Shankar, Tan, Xu,
# Kumar, arXiv 2403.01369) on any corpus. A recipe's run.sh calls it with its corpus options; its
# local/data.sh prepares the data (stage 0). After stage 1, python -m seslib.recipe.plan writes the
# run's plan to exp/plan/ (systems, configs, rows); stages 2-7 read it. See egs/TEMPLATE/README.md.
set -euo pipefail

stage=0; stop_stage=7   # first and last stage to run
corpus=mini          # corpus name: local/data.sh's --corpus, data/local/<corpus>, the configs' tag
local_data_opts=     # more options for local/data.sh
data_inputs=local data_config=   # files and dirs, and an option string, whose change rebuilds stage 0
train_dir= valid_dir= test_dir=  # your own data dirs (wav.scp noisy, spk1.scp clean): stages 0-1 skipped
nj=2 force=false seed=1  # parallel jobs; rerun the selected stages even when done; seed of corpus and mixes
dry_run=false        # run nothing: print each selected stage's inputs, config, outputs and command
train_snr="-5 5" test_snr="-5 -5"  # paper, Sec. 3.1: train/valid at uniform -5..5 dB, test at -5 dB
snr_definition=global  # SNR of whole signals (DNS synthesizer; the paper's noisy SI-SDR), or active windows
test_snrs=           # extra test sets: the sets of snr_variants_of mixed again at each of these SNRs (e.g. "0 5")
snr_variants_of="test test_real"  # test -> test_snr<X>, T -> T_snr<X>
train_hours=0 valid_hours=0 segment_seconds=0  # hours of train/valid mixtures of this length (0: files whole)
modes=auto           # Table 1's systems (auto: the default_modes of conf/experiments/paper.yaml; all: table1)
ablation=            # extra Base systems of a data or corpus ablation (the recipe's conf/train_<S>_<tag>.yaml)
num_rirs=150         # simulated room impulse responses for reverberation augmentation (stage 1)
teacher=whisper-tiny.en  # the frozen teacher: a seslib.teacher spec, or pretrain (stage 2 pre-trains one)
teacher_conf=        # config of the offline teacher pre-training (default conf/teacher_<corpus>.yaml)
teacher_ablation=    # other teachers for $teacher_ablation_modes: random, pretrain, specs
teacher_ablation_modes=auto  # modes trained with each of them (auto: the matrix's, distill_embed concat)
teacher_check=false  # content check of each pretrained teacher against its random twin
teacher_check_sentences=24  # held-out sentences of the content check (each read by 3 voices)
pretraining=auto     # systems of Tables 2-3 and what their init reads (auto: default_pretraining; all)
budget_matched=true  # Table 3 beside a Base trained for each fine-tuned chain's total steps (base_steps<N>)
teacher_features=auto   # dumped (stage 2), online (training loop); auto: online iff mixing is dynamic
feature_storage=float32 # dumped features: float32, two-byte, speech-feature
device=cpu           # where stage 2's teacher features and stage 4's enhancement run: cpu, cuda or auto
score_device=cpu     # where stage 5's Whisper decodes: cpu, cuda or auto
heldout_systems=auto snr_systems=auto sphinx_systems=auto  # where systems are scored (auto: the matrix's)
dnsmos_sets=         # sets on which DNSMOS scores every row (besides PESQ, STOI, SI-SDR, WER), e.g. test_real
train_set=           # 'key=value ...' overrides of every training config
train_conf_tag= nproc=1  # configs' tag (default: the corpus); training processes per node (torchrun)
torchrun_args="--standalone"  # multi-node rendezvous options of torchrun
train_launcher=      # instead of python/torchrun, e.g. on Slurm (cmd.sh)
peers="rnnoise gtcrn" asr_model=  # peers scored beside the GCRN; Whisper dir for WER
analysis=true        # stage 6: teacher-shaped student, lag statistics, spectra of decoded speech
train_seeds= seed_systems=auto max_seed_systems=0  # stage 6: the seed spread (e.g. "2 3")

help_message="Usage: $0 [options]   (every stage: egs/TEMPLATE/README.md)
Stages:
  0  data preparation: the recipe's local/data.sh -> data/local/<corpus>/{train,valid,test[,test_*]}
  1  mixtures -> data/{train,valid,test,test_*}, the SNR copies data/<set>_snr<X>; pairs imported; RIRs
     (then the plan: python -m seslib.recipe.plan make -> exp/plan/)
  2  teachers: offline wav2vec 2.0 pre-training; content check; features of data/train -> dump/
  3  train every planned system (exp/plan/stage3.tsv) -> exp/<system>/{best,last}.pt
  4  enhance the test sets with the systems and peers (exp/plan/stage4.tsv) -> exp/<row>/enhanced_<set>
  5  score PESQ, STOI, SI-SDR, Whisper WER, PocketSphinx PER, DNSMOS (exp/plan/stage5.tsv) -> exp/<row>/score_<set>
  6  analysis (Figs. 3-5) -> exp/analysis; the seed spread (Base and the rows that differ, other seeds)
  7  results: every table with bootstrap intervals -> RESULTS.md
Options (default in brackets):
  --stage N, --stop-stage N  first and last stage [$stage, $stop_stage]
  --corpus NAME           corpus: local/data.sh's --corpus, data/local/NAME, the configs' tag [$corpus]
  --local-data-opts 'OPTS'  more options for local/data.sh (see local/data.sh --help) ['$local_data_opts']
  --data-inputs 'PATHS', --data-config 'STR'  what rebuilds stage 0 when it changes
  --train-dir D --valid-dir D --test-dir D  your own data dirs (wav.scp noisy, spk1.scp clean, utt2spk,
                          spk2utt, utt2num_samples [, text]; python -m seslib.bin.data_dir import PAIRS D writes
                          them from wav.scp + spk1.scp): validated, then data/{train,valid,test} link to them and
                          stages 0-1 are skipped; nothing is written into them. A later run without these options
                          replaces the links at stage 1 (your dirs stay as they are)
  --nj N                  parallel jobs [$nj]
  --force true|false      rebuild the selected stages from scratch, even when done [$force]
  --dry-run true|false    run nothing, write nothing in the recipe dir (the plan goes to a temporary dir,
                          named at the end): print each selected stage as one 'dry-run: {JSON}' line (name,
                          inputs, config, outputs, command, state: done or to run, estimate_s), then one line:
                          how many stages run and how long they take by measured times (this recipe's stamps,
                          else its RESULTS.md's stage table) [$dry_run]
  --seed N                seed of corpus and mixing plans [$seed]
  --train-snr 'LO HI', --test-snr 'LO HI'  SNR ranges in dB of train/valid and test ['$train_snr', '$test_snr']
  --snr-definition global|active  how an SNR is measured, in stage 1 and in dynamic mixing: the power of
                          the whole signals (the DNS synthesizer's snr_mixer; the paper's noisy input at -5 dB
                          has SI-SDR -4.99 dB, which it gives) or on active 100 ms windows [$snr_definition]
  --test-snrs 'X ...'     extra test sets: each set of --snr-variants-of mixed again at X dB ['$test_snrs']
  --snr-variants-of 'T ...'  the sets mixed again (absent ones skipped) ['$snr_variants_of']
  --train-hours H, --valid-hours H, --segment-seconds S  hours of train/valid mixtures of S seconds
                          [$train_hours, $valid_hours, $segment_seconds: each source file once, whole]
  --modes 'M ...'         Table 1's systems: names, all (table1 of conf/experiments/paper.yaml) or auto (its
                          default_modes), e.g. 'auto concat' [$modes]
  --ablation 'S ...'      extra Base systems, the recipe's conf/train_<S>_<tag>.yaml ['$ablation']
  --num-rirs N            simulated RIRs for reverberation augmentation [$num_rirs]
  --teacher T             whisper-tiny.en (bundled), a hub id, a save_pretrained or CTranslate2 dir,
                          random:<spec>, or pretrain (stage 2 pre-trains a wav2vec 2.0) [$teacher]
  --teacher-conf FILE     offline teacher pre-training config [conf/teacher_<corpus>.yaml]
  --teacher-ablation 'T ...'  other teachers: random (the main one's random twin), pretrain, specs;
                          systems <mode>_teacher-<T> ['$teacher_ablation']
  --teacher-ablation-modes 'M ...'  modes of the teacher ablation [$teacher_ablation_modes]
  --teacher-check true|false  content check of each pretrained teacher [$teacher_check]
  --teacher-check-sentences N  sentences of the content check [$teacher_check_sentences]
  --pretraining 'S ...'   systems of Tables 2-3, and what their init reads: names ('' for none), all or auto
                          (default_pretraining of conf/experiments/paper.yaml), e.g. 'auto pipeline_l2' [$pretraining]
  --budget-matched true|false  also train Base for the total steps of each Table 3 chain (pre-training
                          + fine-tuning: base_steps<N>), Table 3's and its seed spread's reference [$budget_matched]
  --teacher-features F    dumped, online, or auto: online where mixing is dynamic [$teacher_features]
  --feature-storage S     dumped features as float32, two-byte or speech-feature [$feature_storage]
  --device D              where stage 2 computes teacher features and stage 4 enhances: cpu, cuda (--nj jobs
                          spread over the GPUs, job J on GPU (J-1) mod their count) or auto (CUDA when present);
                          training's device is its config's train.device [$device]
  --score-device D        where stage 5's Whisper decodes (PESQ, STOI, DNSMOS stay on the CPU) [$score_device]
  --heldout-systems, --snr-systems, --sphinx-systems 'S ...'  systems scored on test_heldout and
                          test_real, on the test_snr<X> sets, with PocketSphinx's PER [auto: the matrix's]
  --dnsmos-sets 'T ...'   sets on which DNSMOS P.835 scores every row (not the seed spread; about 1 s of CPU
                          per utterance, twice Whisper's) ['$dnsmos_sets']
  --train-set 'K=V ...'   overrides of every training config, e.g. 'train.max_steps=300' ['$train_set']
  --train-conf-tag T      the configs' tag: conf/train_common_T.yaml [the corpus]
  --nproc N               training processes per node, data parallel via torchrun [$nproc]
  --torchrun-args 'ARGS'  rendezvous options of torchrun ['$torchrun_args']
  --train-launcher 'CMD'  runs '--nproc-per-node N -m seslib.bin.train ...' (SYSTEM: the system), e.g. Slurm
  --peers 'P ...'         peers to compare: rnnoise dfn3 noisereduce gtcrn ('' for none) ['$peers']
  --asr-model DIR         Whisper model (CTranslate2) for WER [the bundled tiny.en]
  --analysis true|false   the student, lag statistics and spectra [$analysis]
  --train-seeds 'N ...'   training seeds of the seed spread ('' for none) ['$train_seeds']
  --seed-systems 'S ...'  its rows, Base always among them [$seed_systems: Base and the rows whose SI-SDR
                          differs from Base's by the paired bootstrap, decided after stage 5]
  --max-seed-systems N    at most N rows besides Base for auto (each with the Base of its budget)
                          [$max_seed_systems]
  --config FILE           shell file of option assignments, read before the options after it
A finished stage whose inputs, config and recorded outputs are unchanged is skipped; one whose inputs
or config changed, or whose outputs were damaged, is rebuilt from scratch, its previous results kept
aside until the rebuild succeeds; a killed stage resumes where it stopped. One run at a time per
recipe dir (exp/run.lock)."

command_line="$0 $*"; cd "$(dirname "$0")"
int_options="stage stop_stage seed num_rirs teacher_check_sentences max_seed_systems" positive_options="nj nproc"
choice_options="budget_matched=true|false snr_definition=global|active"
choice_options+=" teacher_features=auto|dumped|online feature_storage=float32|two-byte|speech-feature"
choice_options+=" device=cpu|cuda|auto score_device=cpu|cuda|auto"
. utils/parse_options.sh
[ $# -ne 0 ] && { echo "$0: unexpected arguments: $*" 1>&2; exit 1; }
for o in stage stop_stage; do  # (parse_options checked they are whole numbers and stage <= stop_stage)
  [ "${!o}" -le 7 ] || { echo "$0: --${o//_/-} ${!o}: the stages are 0-7 (--help lists them)" 1>&2; exit 1; }
done
[[ "$corpus" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "$0: --corpus '$corpus': use letters, digits, _ . -" 1>&2; exit 1; }
. ./path.sh
. ./cmd.sh
plan=exp/plan  # the run's plan (python -m seslib.recipe.plan); a dry run's lives in a temporary dir
force_opt=(); [ "$force" = true ] && force_opt=(--force)
if [ "$dry_run" = true ]; then  # writes nothing here, takes no lock
  dry=$(mktemp -d "${TMPDIR:-/tmp}/seslib-dry-run.XXXXXX"); plan=$dry/plan
  force_opt+=(--dry-run --alias "$plan=exp/plan" --records "$dry/stages.jsonl" --times RESULTS.md)
else
  . utils/lock.sh && recipe_lock exp/run.lock "$command_line"  # one run per recipe dir: a second one exits
fi

src=data/local/$corpus
run_stage() { python -m seslib.stages --stamp-dir exp/stages --root "$PWD" "${force_opt[@]}" "$@"; }
unstamped() { if [ "$dry_run" = true ]; then run_stage --name "$1" -- "${@:2}"; else "${@:2}"; fi; }  # NAME CMD...
selected() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
rows() { mapfile -t "$1" < <(grep -v '^#' "$2" || true); }  # ARRAY FILE: the rows of a plan file
tsv() { IFS=$'\t' read -r "$@"; }  # VAR... <<< ROW
existing() { local f; for f; do [ ! -e "$f" ] || echo "$f"; done; }  # the paths that exist

own_dirs=false  # bring your own data dirs: validated, linked as data/{train,valid,test}; no stage 0-1
check_only=(); [ "$dry_run" = true ] && check_only=(--check-only)
[ -n "$train_dir$valid_dir$test_dir" ] && own_dirs=true && { python -m seslib.bin.data_dir own \
  --train "$train_dir" --valid "$valid_dir" --test "$test_dir" "${check_only[@]}" || exit 1; }

if selected 0 && [ "$own_dirs" = false ]; then
  [ -x local/data.sh ] || { echo "$0: no local/data.sh in $PWD (see egs/TEMPLATE/setup.sh)" 1>&2; exit 1; }
  # shellcheck disable=SC2086
  run_stage --name 0_sources --title "data preparation, corpus $corpus (local/data.sh)" --inputs $data_inputs \
    --config "corpus=$corpus seed=$seed $data_config" --outputs "$src/train" "$src/valid" "$src/test" \
    --scratch "$src" -- local/data.sh --corpus "$corpus" --out "$src" --nj "$nj" --seed "$seed" $local_data_opts
fi

mix_cmd() {  # mix_cmd SET SEED SNR OUT OPTIONS...: the commands that mix one set of $src into data/OUT
  echo "utils/mix_data_dir.sh --cmd \"$train_cmd\" --nj $nj --seed $2 --snr '$3'" \
    "--snr-definition $snr_definition ${*:5} $src/$1 data/$4;"
  echo "utils/validate_data_dir.sh data/$4 --require spk1.scp noise1.scp utt2num_samples;"
}
if selected 1 && [ "$own_dirs" = false ]; then
  # links left by an earlier run with --train-dir etc. go (the user's dirs stay as they are): stage 1 writes here
  [ "$dry_run" = true ] || python -m seslib.bin.data_dir unlink-own --into data || exit 1
  seg=(); [ "$segment_seconds" = 0 ] || seg=(--segment-seconds "$segment_seconds")
  mixes=$(python -m seslib.recipe.plan mixes --src "$src" --seed "$seed" --train-snr "$train_snr" \
    --test-snr "$test_snr" --train-hours "$train_hours" --valid-hours "$valid_hours" \
    --segment-seconds "$segment_seconds" --of "$snr_variants_of" --snrs "$test_snrs") || exit 1
  mapfile -t mixes <<< "$mixes"
  cmds="set -e;" mixed=() counts=()
  for r in "${mixes[@]}"; do  # the sets with speech + noise sources: one stage, one mixing command each
    tsv kind dir s snr n <<< "$r"; [ "$kind" = mix ] || continue
    o=(); case $dir in train|valid) o=("${seg[@]}" --num-utts "$n"); counts+=("$n") ;; esac
    mixed+=("$dir"); cmds+=$(mix_cmd "$dir" "$s" "$snr" "$dir" "${o[@]}")
  done
  # shellcheck disable=SC2046
  [ ${#mixed[@]} -gt 0 ] && run_stage --name 1_mix \
    --title "mixtures: train/valid at $train_snr dB, test at $test_snr dB" \
    --inputs "$src" --outputs $(printf 'data/%s/wav.scp ' "${mixed[@]}") \
    --scratch $(printf 'data/%s ' "${mixed[@]}") \
    --config "corpus=$corpus seed=$seed train_snr=$train_snr test_snr=$test_snr seg=${seg[*]} ${counts[*]}$(
      [ "$snr_definition" = active ] || echo " snr_definition=$snr_definition")" \
    -- bash -c "$cmds"
  for s in $(python -m seslib.bin.data_dir sets "$src" pairs); do  # pre-mixed: noisy/clean pairs as they come
    run_stage --name "1_import_$s" --title "pre-mixed pairs of $src/$s" --inputs "$src/$s" \
      --outputs "data/$s/wav.scp" --scratch "data/$s" -- python -m seslib.bin.data_dir import "$src/$s" "data/$s"
  done
  for r in "${mixes[@]}"; do  # the same speech and noise (same seed and ids), another SNR
    tsv kind dir s snr out <<< "$r"; [ "$kind" = copy ] || continue
    run_stage --name "1_mix_$out" --title "$dir mixed again at ${snr% *} dB" --inputs "$src/$dir" \
      --config "seed=$seed snr=${snr% *}$([ "$snr_definition" = active ] || echo " snr_definition=$snr_definition")" \
      --outputs "data/$out/wav.scp" --scratch "data/$out" -- \
      bash -c "set -e; $(mix_cmd "$dir" "$s" "$snr" "$out" --tag "$dir")"
  done
  run_stage --name 1_rirs --title "simulated room impulse responses ($num_rirs) for reverberation augmentation" \
    --config "seed=$seed num=$num_rirs" --outputs data/rirs/rir.scp --scratch data/rirs -- \
    python -m seslib.bin.make_rirs --out data/rirs --num "$num_rirs" --seed "$seed"
fi

# the plan: systems, teachers, test sets, rows (python -m seslib.recipe.plan --help; exp/plan/)
plan_opts=()
for o in corpus modes ablation teacher teacher_ablation teacher_ablation_modes teacher_features feature_storage \
  train_set teacher_check teacher_conf pretraining peers asr_model snr_variants_of test_snrs test_snr \
  heldout_systems snr_systems sphinx_systems analysis train_seeds seed_systems max_seed_systems dnsmos_sets \
  budget_matched snr_definition; do
  plan_opts+=("--${o//_/-}" "${!o}")
done
python -m seslib.recipe.plan make --out "$plan" --shared-conf "$SESLIB_ROOT/conf" --conf-tag "$train_conf_tag" \
  "${plan_opts[@]}" || exit 1
read -r main_set _ < "$plan/test_sets"

if selected 2; then
  if [ -f "$plan/stage2_pretrain" ]; then
    tc=$(< "$plan/stage2_pretrain"); [ -f "$tc" ] || { echo "$0: no teacher config $tc" 1>&2; exit 1; }
    run_stage --name 2_teacher --title "pre-train a wav2vec 2.0 teacher on data/train clean speech ($tc)" \
      --inputs "$tc" data/train/spk1.scp --outputs exp/teacher/teacher/config.json --scratch exp/teacher -- \
      python -m seslib.bin.pretrain_teacher --data-dir data/train --out exp/teacher --config "$tc"
  fi
  rows checks "$plan/stage2_checks.tsv"
  for r in "${checks[@]}"; do  # does each teacher encode content, beyond its random twin?
    tsv t tag tp <<< "$r"; out=exp/teacher_check/$tag.json
    # shellcheck disable=SC2046
    run_stage --name "2_teacher_check_$tag" --title "content check of teacher $t against its random twin" \
      --inputs "$src/test/speech.text" $(existing "$tp") \
      --config "teacher=$tp n=$teacher_check_sentences" --outputs "$out" -- \
      python -m seslib.bin.teacher_check --teacher "$tp" --text "$src/test/speech.text" \
        --sentences "$teacher_check_sentences" --out "$out"
  done
  rows dumps "$plan/stage2_dumps.tsv"
  for r in "${dumps[@]}"; do  # only the streams its systems read
    tsv t tag tp dd storage streams <<< "$r"
    # shellcheck disable=SC2046,SC2086
    run_stage --name "2_dump_train_$tag" --title "dump teacher features of data/train ($t: $streams)" \
      --inputs data/train/wav.scp data/train/spk1.scp $(existing "$tp") \
      --config "teacher=$tp streams=$streams storage=$storage" --outputs $(printf "$dd/%s.scp " $streams) \
      --scratch "$dd" -- python -m seslib.bin.dump_features --teacher "$tp" --data-dir data/train --out "$dd" \
        --nj "$nj" --streams $streams --storage "$storage" --device "$device"
  done
fi

launcher=(python)
[ "$nproc" -gt 1 ] && launcher=(python -m torch.distributed.run $torchrun_args --nproc-per-node "$nproc")
# shellcheck disable=SC2086,SC2206
train() {  # train SYSTEM CONFIG INPUTS
  [ -n "$train_launcher" ] && launcher=(${train_launcher//SYSTEM/$1} --nproc-per-node "$nproc")
  run_stage --name "3_train_$1" --title "train $1 ($2)" --inputs "$2" $3 --outputs "exp/$1/best.pt" \
    --scratch "exp/$1" -- "${launcher[@]}" -m seslib.bin.train --config "$2" --train-dir data/train \
    --valid-dir data/valid --out "exp/$1"
}
enhance() {  # enhance SET ROW MODEL INPUT_SCP: a trained system (MODEL its checkpoint) or a peer (peer:<name>)
  local title="enhance $1 with $2" inputs=("$3" "data/$1/$4") opt=(--input-scp "$4")
  [ "$4" = wav.scp ] || title+=" (input: $4)"
  [[ "$3" == peer:* ]] && title="enhance $1 with peer ${3#peer:}" inputs=("data/$1/$4") opt=()
  run_stage --name "4_enhance_${2#peer_}_$1" --title "$title" --inputs "${inputs[@]}" \
    --outputs "exp/$2/enhanced_$1/wav.scp" --scratch "exp/$2/enhanced_$1" -- \
    python -m seslib.bin.enhance --model "$3" "data/$1" "exp/$2/enhanced_$1" --nj "$nj" "${opt[@]}" --device "$device"
}
asr_opt=(); [ -n "$asr_model" ] && asr_opt=(--asr-model "$asr_model")
score() {  # score SET ROW HYP_SCP RECOGNISERS DNSMOS STAMP_CONFIG
  local opt=(--asr $4); [ "$4" = none ] && opt=(--no-asr)
  [ "$5" = true ] || opt+=(--no-dnsmos)
  run_stage --name "5_score_${2}_$1" --title "score $2 on $1" --inputs "$3" "data/$1/spk1.scp" "data/$1/text" \
    --config "$6" --outputs "exp/$2/score_$1/summary.json" --scratch "exp/$2/score_$1" -- \
    python -m seslib.bin.score --ref-dir "data/$1" --hyp "$3" --out "exp/$2/score_$1" --system "$2" --nj "$nj" \
      "${opt[@]}" "${asr_opt[@]}" --device "$score_device"
}
each() {  # each FUNCTION PLAN_FILE: FUNCTION with the columns of each row
  local r a; rows _rows "$2"; for r in "${_rows[@]}"; do IFS=$'\t' read -r -a a <<< "$r"; "$1" "${a[@]}"; done
}

if selected 3; then each train "$plan/stage3.tsv"; fi
if selected 4; then each enhance "$plan/stage4.tsv"; fi
if selected 5; then each score "$plan/stage5.tsv"; fi

if selected 6; then
  if [ "$analysis" = true ]; then
    mapfile -t lag_args < "$plan/stage6_lags.args"; mapfile -t spectra_args < "$plan/stage6_spectra.args"
    # shellcheck disable=SC2046
    run_stage --name 6_lags --title "lag statistics of embeddings (Figs. 3-4)" --inputs data/test/spk1.scp \
      data/test/wav.scp $(existing exp/{student,base,distill_embed,pretrain_enc_l1}/best.pt) \
      --config "${lag_args[*]}" --outputs exp/analysis/lags/lags.json --scratch exp/analysis/lags -- \
      python -m seslib.bin.lag_stats --data-dir "data/$main_set" --out exp/analysis/lags "${lag_args[@]}" --quiet
    [ ${#spectra_args[@]} -gt 0 ] && run_stage --name 6_spectra \
      --title "high band of speech decoded from embeddings (Fig. 5)" \
      --inputs data/test/spk1.scp exp/pretrain_dec_teacher/enhanced_test exp/resynth_student/enhanced_test \
      --config "${spectra_args[*]}" --outputs exp/analysis/spectra/spectra.json --scratch exp/analysis/spectra -- \
      python -m seslib.bin.resynth_spectra --ref-dir "data/$main_set" --out exp/analysis/spectra "${spectra_args[@]}"
    mapfile -t curve_args < "$plan/stage6_curve.args"
    # shellcheck disable=SC2046
    if [ ${#curve_args[@]} -gt 0 ]; then
      run_stage --name 6_decoder_curve \
        --title "WER and phone error rate of the decoder of teacher embeddings against its steps (Table 2)" \
        --inputs "data/$main_set" exp/pretrain_dec_teacher/snapshots $(existing exp/pretrain_enc_l1/best.pt) \
        --config "${curve_args[*]}" --outputs exp/analysis/decoder_curve/curve.json \
        --scratch exp/analysis/decoder_curve -- \
        python -m seslib.bin.decoder_curve --data-dir "data/$main_set" --out exp/analysis/decoder_curve "${curve_args[@]}"
    fi
  fi
  # the seed spread: which rows differ from Base is known once they are scored (stage 5)
  python -m seslib.recipe.plan seeds --plan "$plan" --shared-conf "$SESLIB_ROOT/conf" || exit 1
  [ -s "$plan/stage6_chosen" ] && echo "$(date '+%F %T') seed spread: $(< "$plan/stage6_chosen")"
  rows seed_train "$plan/stage6_train.tsv"; rows seed_enhance "$plan/stage6_enhance.tsv"
  rows seed_score "$plan/stage6_score.tsv"
  for i in "${!seed_train[@]}"; do
    IFS=$'\t' read -r -a a <<< "${seed_train[$i]}"; train "${a[@]}"
    IFS=$'\t' read -r -a a <<< "${seed_enhance[$i]}"; enhance "${a[@]}"
    IFS=$'\t' read -r -a a <<< "${seed_score[$i]}"; score "${a[@]}"
  done
fi

if selected 7; then
  mapfile -t results_args < <(cat "$plan/stage7.args" "$plan/stage7_seeds.args")
  unstamped 7_results python -m seslib.bin.results --out RESULTS.md --stamp-dir exp/stages "${results_args[@]}"
fi
if [ "$dry_run" = true ]; then
  python -m seslib.stages summary --records "$dry/stages.jsonl" --plan "$plan"
fi
