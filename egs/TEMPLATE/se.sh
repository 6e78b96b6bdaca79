#!/usr/bin/env bash
# The shared recipe (egs/TEMPLATE/se.sh, linked into every egs/<name>/): the experiments of "A Closer
# Look at Wav2Vec2 Embeddings for On-Device Single-Channel Speech Enhancement" (Shankar, Tan, Xu,
# Kumar, arXiv 2403.01369) on any corpus. A recipe's run.sh calls it with its corpus options; its
# local/data.sh prepares the data (stage 0). See README.md at the top, "Port to your corpus".
set -euo pipefail

stage=0; stop_stage=7   # first and last stage to run
corpus=mini          # corpus name: local/data.sh's --corpus, data/local/<corpus>, configs, the "auto" defaults
local_data_opts=     # more options for local/data.sh (e.g. dns_wav2vec2: "--mini-conf conf/data_mini_tiny.yaml")
data_inputs=local data_config=   # files and dirs, and an option string, whose change rebuilds stage 0
train_dir= valid_dir= test_dir=  # your own data dirs (wav.scp noisy, spk1.scp clean): stages 0-1 skipped
nj=2 force=false seed=1  # parallel jobs; rerun the selected stages even when done; seed of corpus and mixes
dry_run=false        # run nothing: print each selected stage's inputs, config, outputs and command (JSON lines)
train_snr="-5 5" test_snr="-5 -5"  # paper, Sec. 3.1: train and valid at uniform -5..5 dB, test at a fixed -5 dB
test_snrs="0 5"      # extra test sets data/test_snr<X>: the test speech and noise again at X dB, where WER can rank
snr_variants_of="test test_real"  # the sets mixed again at each of test_snrs (test -> test_snr<X>, T -> T_snr<X>)
heldout_systems=auto # scored on test_heldout, test_real, ... (auto: base concat concat_ws distill_embed distill_output)
snr_systems=auto     # systems scored on them (auto: Base, Feature Concat-ws and the L1 rows of Tables 2-3)
sphinx_systems=auto  # + PocketSphinx phone errors (auto: base concat_ws distill_embed distill_output; Tables 2-3)
train_hours=0 valid_hours=0 segment_seconds=0  # mixing sources: hours of train/valid mixtures cut to this length (0: each file once, whole)
modes="base concat concat_ws distill_embed distill_embed_ws distill_output adversarial adversarial_ws triplet triplet_ws"
                     # training modes, the rows of the paper's Table 1 (conf/train_<mode>_<train_conf_tag>.yaml)
ablation=auto        # extra Base systems of the data ablation, e.g. "base_static base_dynmix" (auto: none)
num_rirs=150         # simulated room impulse responses for reverberation augmentation (stage 1)
teacher=auto         # the frozen teacher (seslib.teacher spec): whisper-tiny.en (bundled, offline), a hub id
                     # (facebook/wav2vec2-base), a save_pretrained or CTranslate2 dir, random:<spec>, or "pretrain" (a
                     # small wav2vec 2.0 pre-trained offline, stage 2); auto: dns -> facebook/wav2vec2-base, others -> whisper-tiny.en
teacher_conf=        # config of the offline teacher pre-training (default conf/teacher_<corpus>.yaml)
teacher_ablation=auto   # teachers for $teacher_ablation_modes: random (twin of the main one), pretrain, a spec; auto: mini random
teacher_ablation_modes="distill_embed concat"  # modes trained with each teacher of the ablation
teacher_check=auto   # content check of each pretrained teacher against its random twin (TTS voices); auto: mini only
teacher_check_sentences=24  # held-out sentences of the content check (each read by 3 voices)
pretraining=auto     # systems of Tables 2-3 (conf/train_<S>_<tag>.yaml) and the systems their init reads; auto: all
teacher_features=auto   # dumped (stage 2, ark/scp) or online (training loop); auto: online iff mixing is dynamic
feature_storage=auto # dumped features: float32, two-byte, speech-feature (1/2, 1/4 of the disk); auto: dns two-byte
train_set=           # 'key=value ...' overrides of every training config, e.g. 'train.max_steps=300 train.batch_size=8'
train_conf_tag= nproc=1  # configs conf/train_<mode>_<tag> (default: the corpus); processes per node (torchrun, DDP)
torchrun_args="--standalone"  # multi-node: e.g. "--nnodes 2 --node-rank 0 --rdzv-backend c10d --rdzv-endpoint HOST:29400"
train_launcher=      # instead of python/torchrun, e.g. on Slurm (cmd.sh): "utils/launch.sh ... exp/SYSTEM/slurm.log utils/slurm_torchrun.sh"
peers="rnnoise dfn3 noisereduce" asr_model=  # peers scored beside the GCRN (missing: skipped); Whisper dir for WER
analysis=auto        # stage 6: teacher-shaped student, lag statistics, spectra of decoded speech (auto: true)
train_seeds="2 3"    # stage 6: Base and the rows that differ from it, retrained with these training seeds
seed_systems=auto    # which (auto: Base + the rows whose SI-SDR differs by the paired bootstrap, at most
max_seed_systems=2   #   max_seed_systems of them, the largest differences first)

help_message="Usage: $0 [options]
Stages:
  0  data preparation, the recipe's local/data.sh -> data/local/<corpus>/{train,valid,test[,test_*]}: per
     set either speech + noise sources (speech.scp, noise.scp) or ready pairs (wav.scp noisy, spk1.scp clean)
  1  sources mixed -> data/{train,valid,test,test_*} (train/valid at train_snr, tests at test_snr; the sets of
     snr_variants_of again at each of test_snrs -> data/test_snr<X>, data/test_real_snr<X>); pairs imported; RIRs
  2  teachers: offline wav2vec 2.0 pre-training (teacher "pretrain") -> exp/teacher/teacher; content check
     against the random twin -> exp/teacher_check/; teacher features of data/train -> dump/<teacher>/train
  3  train \$modes (Table 1), \$ablation, \$teacher_ablation_modes x \$teacher_ablation, \$pretraining
     (Tables 2-3), the teacher-shaped student -> exp/<system>/{best,last}.pt
  4  enhance test (other test sets with \$heldout_systems, test_snr<X> with \$snr_systems), peers -> exp/<system>/enhanced_<set>
  5  score clean, noisy, models, peers: PESQ, STOI, SI-SDR, Whisper WER; PocketSphinx PER for
     \$sphinx_systems, Tables 2-3 and the noisy input -> exp/<system>/score_<set>
  6  analysis: lag statistics (Figs. 3-4), speech decoded from embeddings (Fig. 5) -> exp/analysis; the seed
     spread: Base and the rows that differ from it retrained with each of \$train_seeds
  7  results: every table with bootstrap intervals, seed spread, analysis, stage times -> RESULTS.md
Options:
  --stage N               first stage to run (default $stage)
  --stop-stage N          last stage to run (default $stop_stage)
  --corpus NAME           corpus, passed to local/data.sh (default $corpus)
  --local-data-opts 'OPTS'  more options for local/data.sh (default '$local_data_opts'; see local/data.sh --help)
  --data-inputs 'PATHS', --data-config 'STR'  what rebuilds stage 0 when it changes (default '$data_inputs', '$data_config')
  --train-dir DIR --valid-dir DIR --test-dir DIR  your own data dirs (wav.scp noisy, spk1.scp clean, utt2spk
                          [, text]): stages 0-1 are skipped, data/{train,valid,test} link to them
  --nj N                  parallel jobs (default $nj)
  --force true|false      rebuild the selected stages from scratch, even when done (default $force)
  --seed N                seed of corpus and mixing plans (default $seed)
  --dry-run true|false    run nothing; print each selected stage as one 'dry-run: {JSON}' line (name, inputs,
                          config, outputs, command, state: done or to run), as planned from the data now on disk
  --train-snr 'LO HI', --test-snr 'LO HI'  SNR ranges in dB of train/valid and test (default '$train_snr', '$test_snr')
  --test-snrs 'X ...'     extra test sets at these SNRs (default '$test_snrs'; '' for none): the speech and
                          noise of each set of --snr-variants-of mixed again at X dB -> data/test_snr<X>, data/<set>_snr<X>
  --snr-variants-of 'T ...'  sets mixed again at --test-snrs (default '$snr_variants_of'; absent ones skipped)
  --heldout-systems 'S ...'  systems scored on test_heldout, test_real, ... besides the ablations (default $heldout_systems)
  --snr-systems 'S ...'   systems scored on those sets (default $snr_systems)
  --sphinx-systems 'S ...'  systems whose scoring adds PocketSphinx's phone error rate, an ASR that shares
                          nothing with the teacher (default $sphinx_systems; Tables 2-3 always)
  --train-hours H, --valid-hours H, --segment-seconds S  mixing of source corpora: hours of training and
                          validation mixtures, their length (default $train_hours, $valid_hours, $segment_seconds: 0 = each file once, whole)
  --modes 'M ...'         training modes (default: all of Table 1: '$modes')
  --ablation 'S ...'      data-ablation systems, conf/train_<S>_<tag>.yaml (default $ablation: none;
                          the data ablation: 'base_static base_dynmix', about 16 min on the mini corpus)
  --num-rirs N            simulated RIRs for reverberation augmentation (default $num_rirs)
  --teacher T             the teacher (default $teacher; see the comment at its assignment in run.sh):
                          whisper-tiny.en, a hub id, a save_pretrained or CTranslate2 dir, random:<spec>, pretrain
  --teacher-conf FILE     offline teacher pre-training config (default conf/teacher_<corpus>.yaml)
  --teacher-ablation 'T ...'  other teachers for the teacher ablation: random (the main teacher's random
                          twin), pretrain, or specs (default $teacher_ablation: mini -> 'random'; 'random
                          pretrain' adds the offline wav2vec 2.0; '' for none); systems <mode>_teacher-<T>
  --teacher-ablation-modes 'M ...'  modes of the teacher ablation (default '$teacher_ablation_modes')
  --teacher-check true|false|auto  content check of the teachers (default $teacher_check: mini only)
  --teacher-check-sentences N  sentences of the content check (default $teacher_check_sentences)
  --pretraining 'S ...'   systems of Tables 2-3 and what their init reads (default: all; '' for none):
                          pretrain_dec_{frozen_l1,frozen_l2,frozen_cos,teacher}, pipeline_{l1,l2,cos}, finetune_l1_{frozen,teacher}
  --teacher-features F    dumped (stage 2 writes ark/scp), online (teacher in the training loop), or
                          auto: online for systems that mix dynamically (default $teacher_features)
  --feature-storage S     dumped features as float32, two-byte, speech-feature (default $feature_storage: dns two-byte)
  --train-set 'K=V ...'   overrides of every training config (default '$train_set'), e.g. 'train.max_steps=300'
  --train-conf-tag T      use conf/train_<mode>_T.yaml (default: the corpus name)
  --nproc N               training processes per node, data parallel via torchrun (default $nproc)
  --torchrun-args 'ARGS'  rendezvous options of torchrun (default '$torchrun_args'; multi-node: see run.sh)
  --train-launcher 'CMD'  runs '--nproc-per-node N -m seslib.bin.train ...' (SYSTEM: the system), e.g. on Slurm (cmd.sh)
  --peers 'P ...'         peers to compare (default '$peers'; '' for none)
  --asr-model DIR         Whisper model (CTranslate2) for WER (default: bundled tiny.en)
  --analysis true|false|auto  the student, lag statistics and spectra (default $analysis: true)
  --train-seeds 'N ...'   extra training seeds of the seed spread (default '$train_seeds'; '' for none)
  --seed-systems 'S ...'  rows of the seed spread, Base always among them (default $seed_systems: Base and the Table 1 and 3
                          rows whose SI-SDR differs from Base's by the paired bootstrap, decided after stage 5)
  --max-seed-systems N    at most N rows besides Base for auto (default $max_seed_systems)
  --config FILE           shell file of option assignments, read before the options after it
A finished stage whose inputs, config and recorded outputs are unchanged is skipped; one whose
inputs or config changed, or whose outputs were damaged, is rebuilt from scratch, its previous
results kept aside until the rebuild succeeds (restored if it fails); a killed stage resumes where
it stopped. One run at a time per recipe dir (exp/run.lock)."

command_line="$0 $*"; cd "$(dirname "$0")"
. ./cmd.sh
int_options="stage stop_stage seed num_rirs teacher_check_sentences max_seed_systems" positive_options="nj nproc"
bool_auto_options="teacher_check analysis"
choice_options="teacher_features=auto|dumped|online feature_storage=auto|float32|two-byte|speech-feature"
. utils/parse_options.sh
[ $# -ne 0 ] && { echo "$0: unexpected arguments: $*" 1>&2; exit 1; }
[[ "$corpus" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "$0: --corpus '$corpus': use letters, digits, _ . -" 1>&2; exit 1; }
. ./path.sh
. utils/lock.sh && recipe_lock exp/run.lock "$command_line"  # one run per recipe dir: a second one exits

src=data/local/$corpus
force_opt=(); [ "$force" = true ] && force_opt=(--force); [ "$dry_run" = true ] && force_opt+=(--dry-run)
run_stage() { python -m seslib.stages --stamp-dir exp/stages "${force_opt[@]}" "$@"; }
unstamped() { if [ "$dry_run" = true ]; then run_stage --name "$1" -- "${@:2}"; else "${@:2}"; fi; }  # NAME CMD...
selected() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

own_dirs=false  # bring your own data dirs: validated, linked as data/{train,valid,test}; no stage 0-1
[ -n "$train_dir$valid_dir$test_dir" ] && own_dirs=true && { python -m seslib.bin.data_dir own --train "$train_dir" \
  --valid "$valid_dir" --test "$test_dir" || exit 1; }

if selected 0 && [ "$own_dirs" = false ]; then
  [ -x local/data.sh ] || { echo "$0: no local/data.sh in $PWD: a recipe prepares its data there (egs/TEMPLATE/setup.sh)" 1>&2; exit 1; }
  # shellcheck disable=SC2086
  run_stage --name 0_sources --title "data preparation, corpus $corpus (local/data.sh)" --inputs $data_inputs \
    --config "corpus=$corpus seed=$seed $data_config" --outputs "$src/train" "$src/valid" "$src/test" --scratch "$src" -- \
    local/data.sh --corpus "$corpus" --out "$src" --nj "$nj" --seed "$seed" $local_data_opts
fi

src_sets() { python -m seslib.bin.data_dir sets "$src" "$1"; }  # mix: speech + noise sources; pairs: pre-mixed
if selected 1 && [ "$own_dirs" = false ]; then
  seg=(); [ "$segment_seconds" = 0 ] || seg=(--segment-seconds "$segment_seconds")
  read -r ntrain nvalid < <(python -c "h, v, s = $train_hours, $valid_hours, $segment_seconds
assert s > 0 or not (h or v), '--train-hours and --valid-hours need --segment-seconds'
print(round(h * 3600 / s) if h else 0, round(v * 3600 / s) if v else 0)")
  mix_cmd="set -e"; i=0; declare -A mix_seed
  for s in $(src_sets mix); do  # seeds by position: train 1, valid 2, test 3, other test sets 4, 5, ...
    i=$((i + 1)); mix_seed[$s]=$((seed * 10 + i)); case $s in train) n=$ntrain ;; valid) n=$nvalid ;; *) n=0 ;; esac
    if [ "$s" = train ] || [ "$s" = valid ]; then o="--snr '$train_snr' ${seg[*]} --num-utts $n"; else o="--snr '$test_snr'"; fi
    mix_cmd+="; utils/mix_data_dir.sh --cmd \"$train_cmd\" --nj $nj --seed $((seed * 10 + i)) $o $src/$s data/$s"
    mix_cmd+="; utils/validate_data_dir.sh data/$s --require spk1.scp noise1.scp utt2num_samples"
  done
  # shellcheck disable=SC2046
  [ "$i" -gt 0 ] && run_stage --name 1_mix --title "mixtures: train/valid at $train_snr dB, test at $test_snr dB" \
    --inputs "$src" \
    --config "corpus=$corpus seed=$seed train_snr=$train_snr test_snr=$test_snr seg=${seg[*]} $ntrain $nvalid" \
    --outputs $(for s in $(src_sets mix); do echo "data/$s/wav.scp"; done) \
    --scratch $(for s in $(src_sets mix); do echo "data/$s"; done) -- bash -c "$mix_cmd"
  for s in $(src_sets pairs); do  # pre-mixed: noisy/clean pairs as they come
    run_stage --name "1_import_$s" --title "pre-mixed pairs of $src/$s" --inputs "$src/$s" --outputs "data/$s/wav.scp" \
      --scratch "data/$s" -- python -m seslib.bin.data_dir import "$src/$s" "data/$s"
  done
  while read -r t x v; do  # the same speech and noise (same seed and ids), another SNR
    run_stage --name "1_mix_$v" --title "$t mixed again at $x dB" --inputs "$src/$t" --config "seed=$seed snr=$x" \
      --outputs "data/$v/wav.scp" --scratch "data/$v" -- bash -c "set -e
        utils/mix_data_dir.sh --cmd \"$train_cmd\" --nj $nj --seed ${mix_seed[$t]} --snr '$x $x' --tag $t $src/$t data/$v
        utils/validate_data_dir.sh data/$v --require spk1.scp noise1.scp utt2num_samples"
  done < <(python -m seslib.bin.data_dir snr-copies "$src" --of "$snr_variants_of" --snrs "$test_snrs")
  run_stage --name 1_rirs --title "simulated room impulse responses ($num_rirs) for reverberation augmentation" \
    --config "seed=$seed num=$num_rirs" --outputs data/rirs/rir.scp --scratch data/rirs -- \
    python -m seslib.bin.make_rirs --out data/rirs --num "$num_rirs" --seed "$seed"
fi
test_sets=$(python -m seslib.bin.data_dir test-sets data --of "$snr_variants_of" --snrs "$test_snrs")

teacher_conf=${teacher_conf:-conf/teacher_${corpus}.yaml}
conf_tag=${train_conf_tag:-$corpus}
# systems, teachers, stage inputs and result rows (see python -m seslib.bin.describe_systems --help)
plan_systems() { plan=$(python -m seslib.bin.describe_systems --conf-dir conf --conf-tag "$conf_tag" --corpus "$corpus" \
  --recipe-dir "$PWD" --modes "$modes" --ablation "$ablation" --teacher "$teacher" --teacher-ablation "$teacher_ablation" \
  --teacher-ablation-modes "$teacher_ablation_modes" --teacher-features "$teacher_features" --train-set "$train_set" \
  --feature-storage "$feature_storage" --teacher-check "$teacher_check" --pretraining "$pretraining" --peers "$peers" \
  --test-sets "$test_sets" \
  --heldout-systems "$heldout_systems" --snr-systems "$snr_systems" --sphinx-systems "$sphinx_systems" --asr-model "$asr_model" \
  --analysis "$analysis" --train-seeds "$train_seeds" --seed-systems "$seed_systems" --max-seed-systems "$max_seed_systems")
  eval "$plan"; }
plan_systems

if selected 2 && [ -n "$teacher_users" ]; then
  if [ "$pretrain_used" = true ]; then
    [ -f "$teacher_conf" ] || { echo "$0: no teacher config $teacher_conf" 1>&2; exit 1; }
    run_stage --name 2_teacher --title "pre-train a wav2vec 2.0 teacher on data/train clean speech ($teacher_conf)" \
      --inputs "$teacher_conf" data/train/spk1.scp --outputs exp/teacher/teacher/config.json --scratch exp/teacher -- \
      python -m seslib.bin.pretrain_teacher --data-dir data/train --out exp/teacher --config "$teacher_conf"
  fi
  for t in $check_teachers; do  # does each teacher encode content, beyond its random twin?
    tp=${t_path[$t]}; out=exp/teacher_check/${t_tag[$t]}.json
    run_stage --name "2_teacher_check_${t_tag[$t]}" --title "content check of teacher $t against its random twin" \
      --inputs "$src/test/speech.text" $([ -d "$tp" ] && echo "$tp") --config "teacher=$tp n=$teacher_check_sentences" \
      --outputs "$out" -- python -m seslib.bin.teacher_check --teacher "$tp" --text "$src/test/speech.text" \
        --sentences "$teacher_check_sentences" --out "$out"
  done
  storage_cfg=$([ "$dump_storage" = float32 ] || echo " storage=$dump_storage")  # (float32: old stamps valid)
  for t in $dump_teachers; do
    tp=${t_path[$t]}; dd=${t_dump[$t]}; streams=${t_streams[$t]}  # only the streams its systems read
    run_stage --name "2_dump_train_${t_tag[$t]}" --title "dump teacher features of data/train ($t: $streams)" \
      --inputs data/train/wav.scp data/train/spk1.scp $([ -d "$tp" ] && echo "$tp") \
      --config "teacher=$tp streams=$streams${storage_cfg}" --outputs $(printf "$dd/%s.scp " $streams) --scratch "$dd" -- \
      python -m seslib.bin.dump_features --teacher "$tp" --data-dir data/train --out "$dd" --nj "$nj" --streams $streams \
        --storage "$dump_storage"
  done
fi

launcher=(python); [ "$nproc" -gt 1 ] && launcher=(python -m torch.distributed.run $torchrun_args --nproc-per-node "$nproc")
# shellcheck disable=SC2086,SC2206
train() {  # train SYSTEM
  [ -n "$train_launcher" ] && launcher=(${train_launcher//SYSTEM/$1} --nproc-per-node "$nproc")
  run_stage --name "3_train_$1" --title "train $1 (${s_conf[$1]})" --inputs ${s_inputs[$1]} \
    --config "${s_cfg[$1]}" --outputs "exp/$1/best.pt" --scratch "exp/$1" -- \
    "${launcher[@]}" -m seslib.bin.train --config "${s_conf[$1]}" --train-dir data/train --valid-dir data/valid \
      --out "exp/$1" ${s_set[$1]}
}
enhance() {  # enhance SET SYSTEM
  run_stage --name "4_enhance_${2}_$1" --title "enhance $1 with $2$([ "${s_input[$2]}" = wav.scp ] || echo " (input: ${s_input[$2]})")" \
    --inputs "exp/$2/best.pt" "data/$1/${s_input[$2]}" --outputs "exp/$2/enhanced_$1/wav.scp" \
    --scratch "exp/$2/enhanced_$1" -- python -m seslib.bin.enhance --model "exp/$2/best.pt" \
      "data/$1" "exp/$2/enhanced_$1" --nj "$nj" --input-scp "${s_input[$2]}"
}
if selected 3; then for mode in $systems; do train "$mode"; done; fi

if selected 4; then
  for set in $test_sets; do
    for mode in ${set_systems[$set]}; do enhance "$set" "$mode"; done
    [[ "$set" == *_snr* ]] && continue  # peers: on the -5 dB sets
    for p in $peers_available; do
      run_stage --name "4_enhance_${p}_$set" --title "enhance $set with peer $p" \
        --inputs "data/$set/wav.scp" --outputs "exp/peer_$p/enhanced_$set/wav.scp" \
        --scratch "exp/peer_$p/enhanced_$set" -- \
        python -m seslib.bin.enhance --model "peer:$p" "data/$set" "exp/peer_$p/enhanced_$set" --nj "$nj"
    done
  done
fi

asr_opt=(); [ -n "$asr_model" ] && asr_opt=(--asr-model "$asr_model")
score() {  # score SET SYSTEM HYP_SCP; the second recogniser on the main test set only
  local rec=whisper cfg=$score_cfg_whisper
  [ "$1" = "${test_sets%% *}" ] && [ -n "${s_asr[$2]:-}" ] && rec=${s_asr[$2]} && cfg=${score_cfg[$2]}
  local asr=(--asr $rec); [ "$rec" = none ] && asr=(--no-asr)
  # shellcheck disable=SC2086
  run_stage --name "5_score_${2}_$1" --title "score $2 on $1" --inputs "$3" "data/$1/spk1.scp" "data/$1/text" \
    --config "$cfg" --outputs "exp/$2/score_$1/summary.json" --scratch "exp/$2/score_$1" -- \
    python -m seslib.bin.score --ref-dir "data/$1" --hyp "$3" --out "exp/$2/score_$1" --system "$2" --nj "$nj" \
      "${asr[@]}" "${asr_opt[@]}"
}
if selected 5; then
  for set in $test_sets; do
    for r in ${set_refs[$set]}; do  # clean: the reference itself, the ASR's floor for WER
      score "$set" "$r" "data/$set/$([ "$r" = clean ] && echo spk1 || echo wav).scp"
    done
    for mode in ${set_systems[$set]}; do score "$set" "$mode" "exp/$mode/enhanced_$set/wav.scp"; done
    [[ "$set" == *_snr* ]] && continue
    for p in $peers_available; do score "$set" "peer_$p" "exp/peer_$p/enhanced_$set/wav.scp"; done
  done
fi

main_set=${test_sets%% *}
if selected 6; then
  if [ "$analysis" = true ]; then
    run_stage --name 6_lags --title "lag statistics of embeddings (Figs. 3-4)" --inputs data/test/spk1.scp \
      data/test/wav.scp $(for s in student base distill_embed; do [ -f "exp/$s/best.pt" ] && echo "exp/$s/best.pt"; done) \
      --config "${lag_args[*]}" --outputs exp/analysis/lags/lags.json --scratch exp/analysis/lags -- \
      python -m seslib.bin.lag_stats --data-dir "data/$main_set" --out exp/analysis/lags "${lag_args[@]}" --quiet
    [ ${#spectra_args[@]} -gt 0 ] && run_stage --name 6_spectra --title "high band of speech decoded from embeddings (Fig. 5)" \
      --inputs data/test/spk1.scp exp/pretrain_dec_teacher/enhanced_test exp/resynth_student/enhanced_test \
      --config "${spectra_args[*]}" --outputs exp/analysis/spectra/spectra.json --scratch exp/analysis/spectra -- \
      python -m seslib.bin.resynth_spectra --ref-dir "data/$main_set" --out exp/analysis/spectra "${spectra_args[@]}"
  fi
  plan_systems  # again: which rows differ from Base is known once they are scored (stage 5)
  [ -n "$seed_chosen" ] && echo "$(date '+%F %T') seed spread: $seed_chosen"
  for s in $seed_runs; do
    train "$s"; enhance "$main_set" "$s"; score "$main_set" "$s" "exp/$s/enhanced_$main_set/wav.scp"
  done
fi

if selected 7; then
  # shellcheck disable=SC2086
  unstamped 7_results python -m seslib.bin.results --out RESULTS.md --stamp-dir exp/stages "${results_args[@]}" \
    --sets $(for t in $test_sets; do [[ "$t" == *_snr* ]] || echo "$t"; done) \
    --snr-sets $(for t in $test_sets; do [[ "$t" == *_snr* ]] && echo "$t"; done) \
    --title "Results: corpus $corpus, $([ -f data/test/noise1.scp ] && echo "test sets at $(echo "$test_snr" | awk '$1==$2{print $1; next}{print $1".."$2}') dB SNR" || echo "pre-mixed test set")" \
    --note "Generated by \`./run.sh --corpus $corpus --modes '$modes' --ablation '$ablation' --teacher '$teacher' --teacher-ablation '$teacher_ablation' --pretraining '$pretraining'\` (stage 7 writes this file). Test sets: $(for t in $test_sets; do echo "$t ($(wc -l < data/$t/wav.scp) utterances)"; done | paste -sd, | sed 's/,/, /g'). Training configs: $train_confs; teacher: $teacher$([ "$teacher" = pretrain ] && echo " ($teacher_conf)")$([ "$teacher" = whisper-tiny.en ] && echo " (the encoder of the bundled Whisper tiny.en: a supervised ASR model, not an SSL model; no SSL weights ship offline)")."
fi
