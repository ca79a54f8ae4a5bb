#!/usr/bin/env bash
# The course's GPU checks, as one prepared run for a lent GPU machine (see CONTRIBUTING.md).
#
#   bash scripts/gpu_wheels.sh                   # here, once: IPython + ipywidgets wheels into .whl/
#   bash scripts/gpu_checks.sh bench test lesson7  # there (device tool: carry [".whl"]), ~10 min
#   bash scripts/gpu_checks.sh lesson5             # there, a second call if device time is left
#
# Steps (run in the order given; default: bench test lesson7):
#   bench    benchmarks/bench_discriminative_loss.py on CUDA (and the CPU rows of that machine):
#            the GPU speed-up of the vectorised loss over the per-instance loop (target >= 30x)
#   test     tests/test_losses.py (including test_cuda_matches_cpu_including_autocast) and
#            tests/test_lab_owndata.py (own-data training with CUDA mixed precision)
#   lesson7  lesson 7 in full mode (COURSE_FAST=0): mixed-precision training on the GPU, which
#            aims at SBD >= 0.85 on the held-out sticks within 5 minutes of training
#   lesson5  lesson 5 (U-Net) in full mode
# LESSON_FAST=1 runs the lessons in fast mode instead (to try this script on a CPU-only machine).
# Results go to $OUT (the device tool's folder; ./gpu_results elsewhere): at most 8 files, as the
# device tool returns no more. Each step's exit status is recorded; the script goes on after a
# failure and exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_results}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 COURSE_OFFLINE=1 MPLBACKEND=Agg PYTHONHASHSEED=0
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PY:-python3}

if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "could not install the carried wheels in .whl/"; exit 2; }
  export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi

{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "no nvidia-smi"
  $PY -c "import sys, torch, torchvision; print('python', sys.version.split()[0], 'torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
  nproc
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

failed=()
run_step() {  # run_step NAME COMMAND...: time it, keep its log and exit status
  local name=$1; shift
  local start=$(date +%s)
  echo "===== $name: $*"
  "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "===== $name: exit $rc after $(( $(date +%s) - start )) s" | tee -a "$OUT/$name.log"
  [ "$rc" -eq 0 ] || failed+=("$name")
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(bench test lesson7)
for step in "${steps[@]}"; do
  case $step in
    bench)   run_step bench $PY benchmarks/bench_discriminative_loss.py --device all --repeats 20 --loop-repeats 5 \
               --out "$OUT/discriminative_loss_gpu_machine.json" ;;
    test)    run_step test $PY -m pytest -q --noconftest -p no:cacheprovider tests/test_losses.py tests/test_lab_owndata.py ;;
    lesson7) COURSE_FAST=${LESSON_FAST:-0} run_step lesson7 $PY scripts/run_notebook.py notebooks/07_discriminative_lab.ipynb \
               --log "$OUT/lesson7_cells.json" ;;
    lesson5) COURSE_FAST=${LESSON_FAST:-0} run_step lesson5 $PY scripts/run_notebook.py notebooks/05_unet.ipynb \
               --log "$OUT/lesson5_cells.json" ;;
    *) echo "unknown step '$step' (expected bench, test, lesson7 or lesson5)"; failed+=("$step") ;;
  esac
done
echo "steps: ${steps[*]}; failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]
