#!/bin/bash
# Side-by-side ask times of two checkouts: ab_ask.sh OLD NEW [N...] (default 50 200 1000).
# Each ask runs in a fresh process that imports bayesopt from its checkout (ab_ask.py).
# benchmarks/results/latency/ab_ask.txt was made with OLD a git worktree of 54ff68e:
#   git worktree add /tmp/wt_old 54ff68e && benchmarks/scripts/ab_ask.sh /tmp/wt_old "$PWD"
set -u
old="$(cd "$1" && pwd)"; new="$(cd "$2" && pwd)"; shift 2
cd "$(dirname "$0")/../.." || exit 1  # the repository root, where `benchmarks` imports
PY="${PY:-.venv/bin/python}"
for n in "${@:-50 200 1000}"; do for n1 in $n; do
  o=(); w=()
  for s in 1 2 3 4 5; do
    o+=("$(OMP_NUM_THREADS=1 $PY -m benchmarks.scripts.ab_ask "$n1" "$s" --checkout "$old" 2>/dev/null)")
    w+=("$(OMP_NUM_THREADS=1 $PY -m benchmarks.scripts.ab_ask "$n1" "$s" --checkout "$new" 2>/dev/null)")
  done
  echo "n=$n1 old ${o[*]} | new ${w[*]}"
done; done
