#!/usr/bin/env bash
# The paper profile's dry run on a GPU machine, in one call: every configuration eager (MNIST-based notebooks on
# the real MNIST mirror, scored; CIFAR ones on random pixels), then one configuration per notebook compiled.
# Results (JSON per stage, the log) go to $OUT (default ./dry_run_out). Each stage has its own time limit, and
# each writes its rows as it goes, so a stage cut short keeps what it measured.
#   REPRO_DATA_DIR=... ITERATIONS=10 scripts/gpu_dry_run.sh
set -uo pipefail
OUT=${OUT:-dry_run_out}; mkdir -p "$OUT"
ITERATIONS=${ITERATIONS:-10}
PY=${PY:-python3}
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  "$PY" -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0], 'cuda', torch.cuda.is_available())"
} | tee "$OUT/machine.txt"
stage() {  # stage NAME SECONDS ARGS...
  local name=$1 seconds=$2; shift 2
  timeout "$seconds" "$PY" -m repro.dry_run --profile paper --iterations "$ITERATIONS" --scratch /tmp/dry_run \
      --json "$OUT/$name.json" "$@" > "$OUT/$name.log" 2>&1
  echo "[$name] exit $? after $SECONDS s total"; tail -3 "$OUT/$name.log"
}
stage mnist_eager "${T1:-150}" 10 30 40 --samples 2000
stage cifar_eager "${T2:-200}" 11 12 20 31 --fake-data --samples 200
stage compiled "${T3:-180}" --fake-data --compile both --limit-per-notebook 1 --samples 100
