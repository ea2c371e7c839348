#!/usr/bin/env bash
# One command for a bare GPU machine that has only its own PyTorch: install from a wheelhouse, benchmark, and the
# real runs on one GPU, each stage under its own time limit; a failed stage is recorded and the next one runs.
#
# usage: tools/gpu_run.sh WHEELHOUSE OUT_DIR
#   e.g. on a lent GPU machine, from this machine's `make wheelhouse` (.whl) and `python tools/data/make_gpu_data.py
#   work_dirs/gpu_data --real ../shared/data/real_benchmarks/svt_train` (about 45 MiB with the repository), carrying
#   .whl and work_dirs/gpu_data: `bash tools/gpu_run.sh .whl $OUT`
#   WHEELHOUSE  made by `make wheelhouse` (python 3.12 by default)
#   OUT_DIR     gets results.jsonl (benchmark lines, one data-wait line per training run, one line per stage with
#               its exit code and seconds), summary.txt (the same, readable) and logs.tar.gz (every log, the runs'
#               scalars.json and configs; no checkpoints)
# env:
#   DATA     folder of LMDBs from tools/data/make_gpu_data.py: train, test, unlabeled (rendered), real_unlabeled
#            (default work_dirs/gpu_data, dry run: a tiny one in OUT_DIR; made by tools/data/make_gpu_data.py when
#            missing, which needs wordfreq)
#   PYTHON   interpreter (default python3, the machine's own with its torch)
#   DRY_RUN=1  on CPU: no install (PYTHON must already hold the stack), benchmark --quick, tiny data, batch 4,
#            1 epoch of each run (2 iterations), limits x 3 and a budget of 3600 s; to check this script without a
#            GPU (about 8 minutes on 2 busy cores)
#   BUDGET_S  wall seconds for everything (default 560; dry run 3600): a stage's limit is cut to what is left
#            of it, and a stage is skipped (and recorded) when less than 20 s are left
# Stages in order, with their limits (s): install 240 (mmcv's CPU ops compile with all cores), benchmark 150 (bf16),
# mae 100 (TextMAE, >= 500 iterations; LMIM's teacher), lmim 100 (tools/train.py configs/lmim_pretrain.py, >= 500
# iterations), finetune 120 (the recognizer config from the LMIM student, 500 iterations), test 60 (tools/test.py),
# lmim_dist 100 (LMIM again through tools/dist_train.sh CONFIG 1, NCCL), benchmark_fp16 60, benchmark_compile 90.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WH="$1"; OUT="$(mkdir -p "$2" && cd "$2" && pwd)"
PY="${PYTHON:-python3}"
DRY="${DRY_RUN:-}"
DEADLINE=$((SECONDS + ${BUDGET_S:-$([ -n "$DRY" ] && echo 3600 || echo 560)}))
RUN="$OUT/run"; LOGS="$RUN/logs"; CFG="$RUN/configs"
mkdir -p "$LOGS" "$CFG"
RESULTS="$OUT/results.jsonl"; : > "$RESULTS"
DATA="${DATA:-$([ -n "$DRY" ] && echo "$RUN/data" || echo "$ROOT/work_dirs/gpu_data")}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT"

# stage NAME LIMIT_S COMMAND...: run with a time limit (cut to the budget left), log to $LOGS/NAME.log, record
# exit code and seconds (rc 125: skipped, no budget left)
stage() {
  local name="$1" limit="$2" start=$SECONDS rc timed_out
  shift 2
  [ -n "$DRY" ] && limit=$((3 * limit))  # a shared CPU: slow imports and checkpoint writes, not the GPU's timings
  [ $((DEADLINE - SECONDS)) -lt "$limit" ] && limit=$((DEADLINE - SECONDS))
  if [ "$limit" -lt 20 ]; then
    echo "{\"stage\": \"$name\", \"rc\": 125, \"seconds\": 0, \"skipped\": true}" >> "$RESULTS"
    echo "[gpu_run] $name: skipped, ${limit}s of the budget left"
    return 125
  fi
  echo "[gpu_run] $name (limit ${limit}s): $*"
  timeout --kill-after=15 "$limit" "$@" > "$LOGS/$name.log" 2>&1
  rc=$?
  timed_out=false; { [ $rc = 124 ] || [ $rc = 137 ]; } && timed_out=true
  echo "{\"stage\": \"$name\", \"rc\": $rc, \"seconds\": $((SECONDS - start)), \"timed_out\": $timed_out}" >> "$RESULTS"
  echo "[gpu_run] $name: exit $rc after $((SECONDS - start)) s"
  return $rc
}
# last_checkpoint WORK_DIR: the path mmengine's checkpoint hook wrote last ("" if none)
last_checkpoint() { cat "$1/last_checkpoint" 2>/dev/null || true; }
# data_wait NAME WORK_DIR BATCH: append the run's data-wait line to the results
data_wait() { "$PY" tools/analysis_tools/data_wait.py "$2" --name "$1" --batch "$3" >> "$RESULTS" 2>> "$LOGS/$1.log"; }

# ------------------------------------------------------------------ sizes
if [ -n "$DRY" ]; then
  BENCH=(--device cpu --quick --only lmim_train --only recognize); BATCH=4; WORKERS=1
  PRE_EPOCHS=1; MAE_EPOCHS=1; REC_EPOCHS=1; DATA_SIZES=(--num-train 8 --num-test 4 --num-unlabeled 8)
else
  BENCH=(--device cuda --repeats 5); BATCH=; WORKERS=
  PRE_EPOCHS=10; MAE_EPOCHS=20; REC_EPOCHS=10; DATA_SIZES=()
fi

# ------------------------------------------------------------------ 1. install
if [ -z "$DRY" ]; then
  stage install 240 env PYTHON="$PY" bash tools/install_into_env.sh "$WH"
fi
"$PY" -c 'import json, torch; print(json.dumps(dict(stage="environment", torch=torch.__version__,
cuda=torch.version.cuda, device=torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu")))' >> "$RESULTS"

# ------------------------------------------------------------------ 2. benchmark (bf16, the configs' models)
stage benchmark 150 "$PY" -m benchmarks --pipeline "${BENCH[@]}"
grep -h '^{' "$LOGS/benchmark.log" >> "$RESULTS"

# ------------------------------------------------------------------ 3. data
if [ ! -f "$DATA/unlabeled/data.mdb" ]; then
  svt="$ROOT/../shared/data/real_benchmarks/svt_train"
  real=(); [ -d "$svt" ] && [ -z "$DRY" ] && real=(--real "$svt")
  stage data 120 "$PY" tools/data/make_gpu_data.py "$DATA" "${DATA_SIZES[@]}" "${real[@]}" --workers "$(nproc)"
fi
pretrain_roots="'$DATA/unlabeled'"
[ -f "$DATA/real_unlabeled/data.mdb" ] && pretrain_roots="$pretrain_roots, '$DATA/real_unlabeled'"

# ------------------------------------------------------------------ 4. real runs: override configs on the real ones
# loader: batch / workers for the dry run only (the real runs keep the configs' 64 / 128 and 8 workers)
loader() { [ -n "$DRY" ] && echo "batch_size=$BATCH, num_workers=$WORKERS," || true; }
# python_path PATH: a Python string literal of PATH, or None when empty
python_path() { [ -n "$1" ] && echo "'$1'" || echo None; }
pretrain_config() {  # pretrain_config NAME BASE_CONFIG EPOCHS [MODEL_OVERRIDES]
  cat > "$CFG/$1.py" <<EOF
_base_ = ['$ROOT/$2']
train_dataloader = dict($(loader) dataset=dict(data_root=[$pretrain_roots]))
train_cfg = dict(max_epochs=$3)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=$3))
model = dict(${4:-})
EOF
}
run_dir="$RUN/work_dirs"
pretrain_config mae configs/mae/mae_vit-s-p4_8xb128-amp-coslr-20e_union14m-u.py "$MAE_EPOCHS"
stage mae 100 "$PY" tools/train.py "$CFG/mae.py" --work-dir "$run_dir/mae"
data_wait mae "$run_dir/mae" "${BATCH:-128}"

teacher="$(last_checkpoint "$run_dir/mae")"  # LMIM's teacher: this MAE (none: the student's copy, recorded)
pretrain_config lmim configs/lmim_pretrain.py "$PRE_EPOCHS" "teacher_checkpoint=$(python_path "$teacher")"
stage lmim 100 "$PY" tools/train.py "$CFG/lmim.py" --work-dir "$run_dir/lmim"
data_wait lmim "$run_dir/lmim" "${BATCH:-64}"

student="$(last_checkpoint "$run_dir/lmim")"
cat > "$CFG/finetune.py" <<EOF
_base_ = ['$ROOT/configs/textrecog/vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l.py']
model = dict(backbone=dict(init_cfg=dict(checkpoint=$(python_path "$student"))))
train_dataloader = dict($(loader) dataset=dict(datasets=[dict(type='LabeledLMDBDataset', data_root=['$DATA/train'])]))
synthetic_test = dict(datasets=[dict(type='LabeledLMDBDataset', data_root='$DATA/test', test_mode=True)])
val_dataloader = dict($(loader) dataset=synthetic_test)
test_dataloader = dict($(loader) dataset=synthetic_test)
val_evaluator = dict(dataset_prefixes=['synthetic'])
test_evaluator = dict(dataset_prefixes=['synthetic'])
train_cfg = dict(max_epochs=$REC_EPOCHS, val_interval=$REC_EPOCHS)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=$REC_EPOCHS))
EOF
stage finetune 120 "$PY" tools/train.py "$CFG/finetune.py" --work-dir "$run_dir/finetune"
data_wait finetune "$run_dir/finetune" "${BATCH:-64}"
stage test 60 "$PY" tools/test.py "$CFG/finetune.py" "$(last_checkpoint "$run_dir/finetune")" \
  --work-dir "$run_dir/finetune_test"
# after the recognizer (the budget cuts the last stages first): LMIM again through the launcher, NCCL
stage lmim_dist 100 env PYTHON="$PY" PORT=29517 bash tools/dist_train.sh "$CFG/lmim.py" 1 \
  --work-dir "$run_dir/lmim_dist"
data_wait lmim_dist "$run_dir/lmim_dist" "${BATCH:-64}"

# ------------------------------------------------------------------ 5. benchmark extras: fp16 (the authors'), compile
if [ -z "$DRY" ]; then
  stage benchmark_fp16 60 "$PY" -m benchmarks --pipeline --device cuda --repeats 5 --dtype fp16 \
    --only lmim_train --only recognizer_train
  stage benchmark_compile 90 "$PY" -m benchmarks --pipeline --device cuda --repeats 5 --compile \
    --only lmim_train --batches 256
  grep -h '^{' "$LOGS/benchmark_fp16.log" "$LOGS/benchmark_compile.log" >> "$RESULTS"
fi

# ------------------------------------------------------------------ 6. pack: results, summary, logs (no checkpoints)
"$PY" - "$RESULTS" > "$OUT/summary.txt" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    print(' '.join(f'{k}={v}' for k, v in row.items() if v is not None))
EOF
tar -czf "$OUT/logs.tar.gz" -C "$RUN" --exclude='*.pth' logs configs work_dirs
rm -rf "$RUN"
cat "$OUT/summary.txt"
failed="$(grep -c '"stage": "[a-z_0-9]*", "rc": [1-9]' "$RESULTS" || true)"
echo "[gpu_run] done: $failed failed stage(s); results in $OUT"
