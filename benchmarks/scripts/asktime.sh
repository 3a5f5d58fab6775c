#!/bin/bash
# Seconds per ask of whole seeded runs, two checkouts alternating run by run on the same
# machine: asktime.sh OLD NEW prints one JSON line per run (asktime.py).
# benchmarks/results/ablation/asktime_old_vs_new.jsonl was made with OLD a git worktree of
# 84ab09d (the code before the factor study) and NEW this checkout:
#   git worktree add /work/wt_old 84ab09d && benchmarks/scripts/asktime.sh /work/wt_old "$PWD"
set -u
old="$(cd "$1" && pwd)"; new="$(cd "$2" && pwd)"
cd "$(dirname "$0")/../.." || exit 1  # the repository root, where `benchmarks` imports
PY="${PY:-.venv/bin/python}"
for seed in 0 1 2; do for prob in hartmann6 branin levy6; do for code in "$old" "$new"; do
  OMP_NUM_THREADS=1 $PY -m benchmarks.scripts.asktime "$prob" "$seed" --checkout "$code" 2>/dev/null | tail -1
done; done; done
