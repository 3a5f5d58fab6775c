# Pre-study code (git worktree of 84ab09d at /work/wt_old) against the current checkout.
for seed in 0 1 2; do for prob in hartmann6 branin levy6; do for code in /work/wt_old /work/main; do
  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/results/ablation/asktime.py $code $prob $seed 2>/dev/null | tail -1
done; done; done
