#!/usr/bin/env bash
# How many paper runs one GPU takes side by side: N copies of one configuration's dry run at once (N = 1, 4, 8),
# each reporting its own seconds per iteration. Paper runs use 0.1-1.6 GiB of a large GPU's memory and are bound
# by operator launches, so one process leaves the GPU mostly idle.
#   scripts/gpu_concurrency.sh 12 30        # notebooks (their first configuration), on random pixels
set -uo pipefail
OUT=${OUT:-concurrency_out}; mkdir -p "$OUT"
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}  # side-by-side processes share the cores
for notebook in "$@"; do
  for n in 1 4 8; do
    for i in $(seq "$n"); do
      "$PY" -m repro.dry_run --profile paper "$notebook" --limit-per-notebook 1 --fake-data --iterations 20 \
          --samples 16 --scratch "/tmp/concurrency/$notebook-$n-$i" --json "/tmp/concurrency/$notebook-$n-$i.json" \
          > "/tmp/concurrency/$notebook-$n-$i.log" 2>&1 &
    done
    wait
    "$PY" - "$notebook" "$n" <<'PY' | tee -a "$OUT/concurrency.txt"
import json, sys, glob
notebook, n = sys.argv[1], int(sys.argv[2])
rows = [json.load(open(f))[0] for f in sorted(glob.glob(f"/tmp/concurrency/{notebook}-{n}-*.json"))]
ok = [r for r in rows if r["status"] == "ok"]
per = [r["seconds_per_iteration"] for r in ok]
print(json.dumps({"notebook": notebook, "processes": n, "ok": len(ok), "configuration": rows[0]["configuration"],
                  "ms_per_iteration_each": [round(1000 * s, 1) for s in per],
                  "iterations_per_second_total": round(sum(1 / s for s in per), 1)}))
PY
  done
done
