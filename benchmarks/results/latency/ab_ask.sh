#!/bin/bash
# Side-by-side ask times of two checkouts: ab_ask.sh OLD NEW [N...] (default 50 200 1000).
# Made the table in ab_ask.txt with OLD a git worktree of 54ff68e (the session start):
#   git worktree add /tmp/wt_old 54ff68e && benchmarks/results/latency/ab_ask.sh /tmp/wt_old "$PWD"
PY="${PY:-.venv/bin/python}"
HERE="$(dirname "$0")"
old="$1"; new="$2"; shift 2
for n in "${@:-50 200 1000}"; do for n1 in $n; do
  o=(); w=()
  for s in 1 2 3 4 5; do
    o+=("$(OMP_NUM_THREADS=1 $PY "$HERE/ab_ask.py" "$old" "$n1" "$s" 2>/dev/null)")
    w+=("$(OMP_NUM_THREADS=1 $PY "$HERE/ab_ask.py" "$new" "$n1" "$s" 2>/dev/null)")
  done
  echo "n=$n1 old ${o[*]} | new ${w[*]}"
done; done
