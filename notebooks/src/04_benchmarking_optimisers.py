# %% [markdown]
# # 4. Benchmarking optimisers honestly
#
# "Our optimiser beats random search" is one of the most often made and least often
# checked claims in machine learning. This notebook shows how to check it: what to
# measure, why one run (one seed) proves nothing, how to test a difference across seeds,
# and why the bar is random search with **twice** the budget. Then it uses the toolkit's
# benchmark suite (`benchmarks/`) the same way, and reads the committed report.
#
# **Arc:** intuition and theory → from scratch → the library (the benchmark suite) → an
# honest baseline (random search 2x, over many problems) → references. Set
# `SMOKE_TEST=1` in the environment to run everything with tiny budgets.

# %%
import math
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.stats
import torch

import bayesopt as bo
from bayesopt import plot
from benchmarks import problems, runner, stats, store
from benchmarks.cell import Cell
from benchmarks.results_table import build

SMOKE = os.environ.get("SMOKE_TEST", "") not in ("", "0")
if SMOKE:
    print("SMOKE_TEST is on: budgets are shrunk")
torch.set_num_threads(1)  # small GPs: one thread is fastest, and polite on a shared machine
warnings.filterwarnings("ignore", category=bo.FallbackWarning)
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by the runner
CONTENDERS = ["bayesopt", "random", "random-2x", "sobol"]


def zoom_scores(ax, start_fraction=0.25):
    """Normalised scores crowd towards 1: zoom on the medians after the first quarter."""
    tails = [ln.get_ydata()[int(len(ln.get_ydata()) * start_fraction):] for ln in ax.lines]
    low = float(np.nanmin(np.concatenate(tails)))
    ax.set_ylim(low - 0.15 * (1 - low), 1 + 0.05 * (1 - low))

%config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 90, "figure.figsize": (7.5, 3.8), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## Intuition and theory
#
# **An optimiser run is a random variable.** Its initial design is random, its acquisition
# optimiser has random restarts, the objective may be noisy. Run it with another seed and
# you get another result. So a comparison of two optimisers compares two *distributions*
# of outcomes, and needs several seeds.
#
# **What to measure.** If the optimum $f^\star$ is known (synthetic test functions), the
# **simple regret** after $T$ evaluations is the gap between the best value found and the
# optimum,
#
# $$ r_T = \min_{t \le T} f(x_t) - f^\star ,$$
#
# usually shown as $\log_{10} r_T$ since progress spans orders of magnitude. For real
# tuning tasks $f^\star$ is unknown. The **normalised score** (Bayesmark's construction)
# puts every task on the same scale,
#
# $$ s_T = \frac{m_{\text{rand}} - \min_{t \le T} f(x_t)}{m_{\text{rand}} - f_{\text{best}}} ,$$
#
# where $m_{\text{rand}}$ is the median value of a single random evaluation and
# $f_{\text{best}}$ the best value any contender ever found on the task: 0 means "as good
# as a typical random guess", 1 means "as good as the best anyone found". Both anchors
# come from the runs themselves, so scores compare contenders *within one benchmark*, not
# across benchmarks.
#
# **Paired comparisons.** Give optimisers A and B the same seeds, so that seed $i$ means
# the same noise stream for both, and look at the per-seed differences of their losses
# $d_i = L_{A,i} - L_{B,i}$. The **Wilcoxon signed-rank test** asks whether the $d_i$ are
# symmetric around zero. Rank the $|d_i|$ (zeros dropped), and sum the ranks of the
# positive differences:
#
# $$ W^+ = \sum_{i:\, d_i > 0} \operatorname{rank}(|d_i|) .$$
#
# If A and B are equally good, every sign is a coin flip, so the null distribution of
# $W^+$ comes from all $2^n$ sign patterns, and the two-sided p-value is the fraction of
# patterns at least as extreme as the one observed. It uses no normality assumption and
# weighs big differences more than small ones (unlike a sign test), and it is the test
# Demšar (2006) recommends for comparing two methods over many data sets. One
# consequence matters a lot: with $n$ seeds the smallest attainable p-value is
# $2 / 2^n$, so **five seeds can never give p < 0.05**, whatever the data.
#
# **The bar: random search with twice the budget.** Jamieson and Recht's blog post "The
# News on Auto-tuning" (2016) and Li et al.'s Hyperband paper (2018) compared Bayesian
# optimisers with random search on hyperparameter-tuning benchmarks and found random
# search run for **twice as long** competitive with most of them. It is a fair bar: an
# optimiser that thinks hard between evaluations competes with one that simply evaluates
# more, and random search parallelises perfectly. An optimiser that cannot beat
# "random 2x" should not be used on problems like those.

# %% [markdown]
# ## From scratch
#
# ### Runs
#
# The Branin function (2 parameters, three global minima, $f^\star \approx 0.398$), from
# the suite's problem registry, and a plain ask/tell loop for BO, random search, and
# random search with twice the budget, on the same seeds.

# %%
branin = problems.get("branin")
print(branin.space, "| optimum:", branin.optimum)

n_seeds, budget = (3, 8) if SMOKE else (10, 30)


def run(make, seed, n_evals):
    """Values of n_evals evaluations of an ask/tell optimiser on Branin."""
    opt = make(seed)
    for _ in range(n_evals):
        trial = opt.ask()
        opt.tell(trial, branin.fn(trial.params))
    return [t.value for t in opt.trials]


values = {
    "bayesopt": [run(lambda s: bo.Optimizer(branin.space, seed=s), s, budget) for s in range(n_seeds)],
    "random": [run(lambda s: bo.RandomSearch(branin.space, seed=s), s, budget) for s in range(n_seeds)],
    "random 2x": [run(lambda s: bo.RandomSearch(branin.space, seed=s), s, 2 * budget) for s in range(n_seeds)],
}

# %% [markdown]
# ### Regret curves, one seed at a time and together
#
# `plot.convergence` turns value sequences into best-so-far curves and draws the median
# and the interquartile band over seeds; "random 2x" is put on the same axis by taking,
# at step $t$, the best of its first $2t$ values. With `show_runs=True` every seed is a
# thin line.

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
plot.convergence(values, optimum=branin.optimum, budget_factor={"random 2x": 2}, show_runs=True, ax=ax)
ax.set_title(f"Branin, {n_seeds} seeds (thin lines: single seeds)")
plt.show()

# %% [markdown]
# ### Why one seed proves nothing
#
# The thin lines cross. Suppose you had run **one** seed, and stopped after $t$
# evaluations: how often would "BO beats random 2x" have been your conclusion?

# %%
def regret(vals, factor=1):
    return plot.best_so_far(vals, factor=factor) - branin.optimum


r_bo = np.array([regret(v) for v in values["bayesopt"]])
r_2x = np.array([regret(v, factor=2) for v in values["random 2x"]])
wins = (r_bo < r_2x).mean(axis=0)
losses = (r_bo > r_2x).mean(axis=0)
steps = np.arange(1, budget + 1)
fig, ax = plt.subplots()
ax.plot(steps, wins, label="seeds where bayesopt is ahead")
ax.plot(steps, losses, label="seeds where random 2x is ahead")
ax.set(xlabel="trial $t$", ylabel=f"fraction of the {n_seeds} seeds", ylim=(-0.05, 1.05),
       title="One seed's verdict: bayesopt vs random 2x on Branin")
ax.legend()
plt.show()

# %% [markdown]
# Early on, the verdict of a single seed is close to a coin flip (both start from
# space-filling points); later BO is ahead on most seeds, but a single unlucky or lucky
# seed can still tell the opposite story. A single run is an anecdote.
#
# ### The Wilcoxon signed-rank test, from scratch
#
# Exactly as in the theory section: rank the absolute differences, sum the ranks of the
# positive ones, and enumerate all $2^n$ sign patterns for the null distribution.

# %%
def wilcoxon_exact(a, b):
    """Two-sided exact Wilcoxon signed-rank test of paired samples; returns (W+, p)."""
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[d != 0]  # zero differences carry no information
    n = len(d)
    if n == 0:
        return 0.0, 1.0
    ranks = scipy.stats.rankdata(np.abs(d))
    w_plus = ranks[d > 0].sum()
    signs = (np.arange(2**n)[:, None] >> np.arange(n)) & 1  # every sign pattern: 2^n x n
    null = signs @ ranks  # W+ under each pattern
    centre = ranks.sum() / 2
    p = np.mean(np.abs(null - centre) >= abs(w_plus - centre) - 1e-9)
    return w_plus, p


final_bo = np.log10(np.maximum(r_bo[:, -1], 1e-12))
for name, r in [("random", np.array([regret(v) for v in values["random"]])), ("random 2x", r_2x)]:
    final_other = np.log10(np.maximum(r[:, -1], 1e-12))
    w, p = wilcoxon_exact(final_bo, final_other)
    d = final_bo - final_other
    scipy_p = scipy.stats.wilcoxon(d[d != 0]).pvalue if np.any(d != 0) else 1.0
    suite = stats.compare(final_bo, final_other)
    print(f"bayesopt vs {name:9s}: W+ = {w:4.0f}, p = {p:.4f} (scipy {scipy_p:.4f}); "
          f"suite verdict: {suite.outcome.value} (p = {suite.p_value:.4f})")

print("\nsmallest attainable two-sided p with n seeds:",
      {n: round(stats.min_attainable_p(n), 4) for n in (3, 5, 6, 8, 10, 20)})

# %% [markdown]
# Our exact test, SciPy's and the suite's `stats.compare` agree. The losses compared are
# the final $\log_{10}$ regrets; a *negative* $d_i$ means BO was better on seed $i$, so
# BO winning shows up as a small $W^+$ with a small p-value.
#
# ## The library: the benchmark suite
#
# Everything above, for many problems and optimisers, is what `benchmarks/` automates: a
# problem registry (synthetic functions with known optima, noisy and mixed variants, and
# scikit-learn tuning tasks), a contender registry (bayesopt and its variants, random,
# random 2x, Sobol, Optuna, scikit-optimize), a resumable runner that appends one JSON
# record per (problem, contender, seed, budget) *cell*, and a report. From the command
# line it is `python -m benchmarks run --preset quick` then `python -m benchmarks report`;
# here we call the same functions from Python, on a tuning task so that the normalised
# score appears: support-vector regression on scikit-learn's diabetes data (log C, log
# $\gamma$, log $\varepsilon$; 3-fold cross-validated MSE).

# %%
task = problems.get("svr-diabetes")
print(task.description, "| space:", task.space)
suite_seeds, suite_budget = (2, 6) if SMOKE else (10, task.budget)
cells = [Cell("svr-diabetes", contender, seed, suite_budget)
         for contender in CONTENDERS for seed in range(suite_seeds)]

with tempfile.TemporaryDirectory() as tmp:  # a scratch results file: the repository is not touched
    path = Path(tmp) / "runs.jsonl"
    summary = runner.run(cells, path, workers=0, progress=False)
    records, _ = store.read(path)
print(summary)
res = build(store.latest(records).values())
(task_results,) = res.problems.values()
print("normalised-score anchors:", task_results.reference)

# %% [markdown]
# `build` turns the records into per-problem curves and final scores; the anchors above
# are the median of all uniformly random evaluations ($m_{\text{rand}}$, score 0) and the
# best value seen by any contender on any seed ($f_{\text{best}}$, score 1). On the left
# the median curves (each record's trace is already a best-so-far curve at every budget
# point, random 2x included), with one band, bayesopt's middle half of the seeds, for the
# spread; on the right what the paired test actually sees: for each seed, bayesopt's
# final score minus the other contender's on the same seed.

# %%
rows = []
for other in ["random", "random-2x", "sobol"]:
    a, b = task_results.paired("bayesopt", other)
    c = stats.compare(a, b)
    rows.append({"bayesopt vs": other, "verdict": c.outcome.value, "p": round(c.p_value, 4),
                 "seeds": c.n_pairs, "bayesopt ahead on": f"{int(np.sum(np.array(a) < np.array(b)))} seeds",
                 "median score bayesopt": np.median(list(task_results.final["bayesopt"].values())),
                 "median score other": np.median(list(task_results.final[other].values()))})
verdicts = pd.DataFrame(rows).set_index("bayesopt vs")

fig, (ax, ax_d) = plt.subplots(1, 2, figsize=(13, 4.4), layout="constrained",
                               gridspec_kw={"width_ratios": [1.3, 1]})
styles = {"bayesopt": ("C0", "-"), "random": ("0.45", "--"), "random-2x": ("k", ":"), "sobol": ("C8", "-.")}
for name in CONTENDERS:
    runs = np.array(list(task_results.curves[name].values()))  # seeds x trials
    trial = np.arange(1, runs.shape[1] + 1)
    color, line = styles[name]
    ax.plot(trial, np.median(runs, axis=0), color=color, linestyle=line, linewidth=2,
            label=f"{name} (median)")
    if name == "bayesopt":
        ax.fill_between(trial, *np.percentile(runs, [25, 75], axis=0), color=color, alpha=0.2,
                        linewidth=0, label="bayesopt: 25–75 % of seeds")
finals = np.concatenate([list(task_results.final[c].values()) for c in CONTENDERS])
ax.set(xlabel="trial", ylabel="normalised score (higher is better)", ylim=(np.percentile(finals, 5) - 0.05, 1.005),
       title=f"{task_results.label}: medians of {suite_seeds} seeds")
ax.legend(fontsize="small", loc="lower right")

for i, other in enumerate(verdicts.index):
    a, b = task_results.paired("bayesopt", other)
    ahead = np.array(b) - np.array(a)  # losses: positive = bayesopt's final score is higher
    jitter = np.random.default_rng(i).uniform(-0.12, 0.12, len(ahead))
    ax_d.scatter(i + jitter, ahead, s=24, color="C0", alpha=0.7, label="one seed" if i == 0 else None)
    ax_d.scatter([i], [np.median(ahead)], marker="_", s=900, color="k", label="median" if i == 0 else None)
    v = verdicts.loc[other]
    ax_d.annotate(f"{v['verdict']}\np = {v['p']:.3f}", (i, 1.0), xycoords=("data", "axes fraction"),
                  xytext=(0, -4), textcoords="offset points", ha="center", va="top", fontsize="small")
ax_d.axhline(0, color="k", linewidth=0.8)
ax_d.set_xticks(range(len(verdicts)), [f"vs {o}" for o in verdicts.index])
ax_d.set_xlim(-0.5, len(verdicts) - 0.5)
top = np.abs(ax_d.get_ylim()).max()
ax_d.set_ylim(-top, 1.35 * top)
ax_d.set(ylabel="final score, bayesopt minus the other", title="The same seeds, paired (Wilcoxon)")
ax_d.legend(fontsize="small", loc="lower right", markerscale=0.4)
plt.show()
verdicts

# %% [markdown]
# What this run shows: bayesopt's median final score is a little higher (0.984, against
# 0.979 for both random searches and 0.974 for Sobol), and the left panel alone would
# suggest a lead. The right panel shows what the paired test sees. Against random search
# and random 2x, bayesopt ended ahead on 7 seeds of 10 and behind on 3, by a few
# hundredths of a score at most, and the Wilcoxon test calls both a tie ($p = 0.084$).
# Against Sobol it was ahead on 9 of 10, a win ($p = 0.004$). (Random 2x's extra draws
# hardly ever improved on random search's best here, so its dots nearly coincide with
# random's.)
#
# Scores close to 1 for every contender mean the task saturates: most reasonable settings
# are about as good as the best, and a tie is then the honest result, not a failure of
# the test. A difference in medians without a significant p-value is exactly the kind of
# difference a single seed would have "shown".
#
# ## An honest baseline: random 2x over many problems
#
# One task says little. The committed report `benchmarks/results/standard/` ran bayesopt,
# the random baselines and peer libraries on fifteen problems with ten seeds each. We load
# its raw records (`runs.jsonl`) and recompute the comparison with random search and random
# search 2x. The numbers below are read from the file when this notebook runs, so they
# follow any re-run of the benchmark.

# %%
records, bad = store.read(store.suite_dir("standard") / store.RUNS)  # the committed results
standard = build(store.latest(records).values())
print(f"{len(records)} records ({bad} unreadable lines), {len(standard.problems)} problems, "
      f"contenders: {', '.join(standard.contenders)}")

rows = []
for label, pr in standard.problems.items():
    if not {"bayesopt", "random", "random-2x"} <= set(pr.final):
        continue
    row = {"problem": label, "family": pr.problem.family, "d": pr.problem.dim, "budget": pr.budget,
           "metric": "log10 regret" if pr.has_optimum else "score"}
    for name in ["bayesopt", "random", "random-2x"]:
        row[f"median {name}"] = np.median(list(pr.final[name].values()))
    for other in ["random", "random-2x"]:
        c = stats.compare(*pr.paired("bayesopt", other))
        row[f"vs {other}"] = f"{c.outcome.value} (p={c.p_value:.3f})"
    a, b = pr.paired("bayesopt", "random-2x")
    row["seeds ahead of 2x"] = f"{int(np.sum(np.array(a) < np.array(b)))}/{len(a)}"
    rows.append(row)
table = pd.DataFrame(rows).set_index("problem")
table.round(3)

# %% [markdown]
# Win/tie/loss totals, and what a single seed would have said. Each cell of the figure
# below is one (problem, seed) pair: green where bayesopt ended ahead of random 2x on that
# seed, red where it ended behind. The right-hand column is the verdict of the Wilcoxon
# test over all seeds.

# %%
for other in ["random", "random-2x"]:
    counts = table[f"vs {other}"].str.split(" ").str[0].value_counts()
    print(f"bayesopt vs {other:9s}: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ["win", "tie", "loss"]))

labels = list(table.index)
seeds = sorted({s for pr in standard.problems.values() for s in pr.final.get("bayesopt", {})})
grid = np.full((len(labels), len(seeds)), np.nan)
for i, label in enumerate(labels):
    pr = standard.problems[label]
    for j, s in enumerate(seeds):
        if s in pr.final["bayesopt"] and s in pr.final["random-2x"]:
            grid[i, j] = np.sign(pr.loss(pr.final["random-2x"][s]) - pr.loss(pr.final["bayesopt"][s]))
verdict = table["vs random-2x"].str.split(" ").str[0].map({"win": 1.0, "tie": 0.0, "loss": -1.0}).to_numpy()

from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

cmap = ListedColormap(["tab:red", "0.85", "tab:green"])
fig, ax = plt.subplots(figsize=(8, 0.35 * len(labels) + 1.8), layout="constrained")
ax.imshow(np.column_stack([grid, np.full(len(labels), np.nan), verdict]), cmap=cmap, vmin=-1, vmax=1,
          aspect="auto")
ax.set_xticks(list(range(len(seeds))) + [len(seeds) + 1], [str(s) for s in seeds] + ["Wilcoxon"])
ax.set_yticks(range(len(labels)), labels)
ax.set(xlabel="seed", ylabel="problem", title="bayesopt vs random 2x: each seed, and the test over seeds")
ax.grid(False)
ax.legend(handles=[Patch(color="tab:green", label="bayesopt ahead / significant win"),
                   Patch(color="0.85", label="equal / no significant difference"),
                   Patch(color="tab:red", label="random 2x ahead / significant loss")],
          loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
plt.show()

# %% [markdown]
# Rows that are mostly green but contain red cells are the "one seed proves nothing"
# lesson in one picture: a paper that happened to report one of the red seeds would have
# claimed the opposite of the test. Rows without a clear majority are where the test
# (rightly) refuses to decide.
#
# Finally the curves of the problems where bayesopt was most and least often ahead of
# random 2x (chosen from the data, not by hand):

# %%
order = sorted(labels, key=lambda lb: np.nanmean(grid[labels.index(lb)]))
chosen = list(dict.fromkeys(order[-2:][::-1] + order[:2]))
fig, axes = plt.subplots(1, len(chosen), figsize=(4.2 * len(chosen), 3.8), layout="constrained")
for ax, label in zip(np.atleast_1d(axes), chosen):
    pr = standard.problems[label]
    curves = {c: list(pr.curves[c].values()) for c in ["bayesopt", "random", "random-2x"]}
    plot.convergence(curves, maximize=not pr.has_optimum, ax=ax)
    ax.set(title=f"{label} (d = {pr.problem.dim})", ylabel=pr.metric_name)
    if not pr.has_optimum:
        zoom_scores(ax)
    ax.get_legend().set_title(None)
    for text in ax.get_legend().get_texts():
        text.set_fontsize("x-small")
plt.show()

# %%
verdicts_2x = table["vs random-2x"].str.split(" ").str[0]
by_family = pd.crosstab(table["family"], verdicts_2x).reindex(columns=["win", "tie", "loss"], fill_value=0)
by_family["problems that were not wins"] = [
    ", ".join(lb for lb in table.index[(table["family"] == fam) & (verdicts_2x != "win")]) or "–"
    for fam in by_family.index]
# Fifteen tests at once: Holm's step-down correction keeps the family-wise error at 5 %.
holm = stats.holm_outcomes({lb: stats.compare(*standard.problems[lb].paired("bayesopt", "random-2x"))
                            for lb in table.index})
print("bayesopt vs random-2x with Holm's correction over", len(holm), "problems:",
      ", ".join(f"{sum(o.value == k for o in holm.values())} {k}" for k in ["win", "tie", "loss"]),
      "| wins that do not survive it:",
      ", ".join(lb for lb in table.index if verdicts_2x[lb] == "win" and holm[lb].value != "win") or "none")
by_family

# %% [markdown]
# ### When does BO beat random search 2x, and when not?
#
# Read the table with these questions, which the literature keeps coming back to:
#
# * **Dimension and budget.** A GP needs data in proportion to the dimension before its
#   posterior is informative; with budgets of a few evaluations per dimension, BO is
#   mostly its initial design, which *is* (quasi-)random search. BO's lead tends to grow
#   with the budget.
# * **Effective dimension.** When only a few of many parameters matter (common in
#   hyperparameter tuning), random search explores every important parameter with all of
#   its samples (Bergstra and Bengio, 2012), and 2x the budget goes a long way.
# * **Saturation.** On tasks where most settings are nearly as good as the best (look for
#   normalised scores near 1 for random search too), there is little to gain and
#   differences drown in evaluation noise.
# * **Noise.** A noisy objective blurs the incumbent; the paired test needs more seeds to
#   see anything.
# * **Cost.** This comparison counts evaluations. When an evaluation takes milliseconds,
#   BO's seconds per ask buy more random evaluations than 2x: measure wall-clock time
#   too (the report's cost table and the suite's latency benchmark do).
#
# What the committed report shows (the tables above are computed from its records when
# the notebook runs; the numbers here are from the last run):
#
# * **Against random 2x, bayesopt won on 10 of the 15 problems, tied on 5 and lost on
#   none.**
# * **Every synthetic, noisy and mixed problem is a win** (8 of 8), with bayesopt ahead
#   on 8 to 10 of the 10 seeds. On the five smooth synthetic functions its median final
#   regret is between 0.8 (Levy-6) and 3.6 (Branin) orders of magnitude below random
#   2x's.
# * **All five ties are tuning tasks** (svr-diabetes, rf-wine, mlp-breast, knn-digits,
#   enet-diabetes); two of the seven tuning tasks are wins (gb-diabetes, logreg-breast).
#   The ties look as the points above predict. On knn-digits and svr-diabetes the task
#   saturates: random 2x's median score is already 1.000 and 0.975, and on knn-digits
#   bayesopt and random 2x ended exactly equal on 6 seeds of 10, which the test drops,
#   leaving 4 pairs and a smallest attainable p of 0.125. On mlp-breast bayesopt was
#   ahead on 9 seeds of 10, but the one it lost was the largest difference, and the test
#   does not call it ($p = 0.084$). On rf-wine and enet-diabetes the per-seed
#   differences are large and of both signs.
# * **Fifteen tests at once.** With Holm's correction over the fifteen problems (the
#   suite's report applies it), the two weakest wins, branin-noisy ($p = 0.014$) and
#   logreg-breast ($p = 0.049$), no longer count: 8 wins, 7 ties, no losses.
#
# So the data bear out the usual summary, with its caveats attached: at these budgets
# (a few dozen evaluations) and with ten seeds, BO beats random search 2x clearly on
# smooth low-dimensional problems, noisy or not; on most of these tuning tasks random
# search with twice the budget is as good.
#
# ## References
#
# * K. Jamieson and B. Recht, "The News on Auto-tuning", *arg min blog*, 2016 (random
#   search with twice the budget).
# * L. Li, K. Jamieson, G. DeSalvo, A. Rostamizadeh and A. Talwalkar, "Hyperband: A Novel
#   Bandit-Based Approach to Hyperparameter Optimization", *JMLR* 18, 2018.
# * J. Bergstra and Y. Bengio, "Random Search for Hyper-Parameter Optimization", *JMLR*
#   13, 2012.
# * R. Turner, D. Eriksson, M. McCourt, J. Kiili, E. Laaksonen, Z. Xu and I. Guyon,
#   "Bayesian Optimization is Superior to Random Search for Machine Learning
#   Hyperparameter Tuning: Analysis of the Black-Box Optimization Challenge 2020",
#   NeurIPS 2020 Competition Track, PMLR 133, 2021 (Bayesmark and its normalised score).
# * F. Wilcoxon, "Individual Comparisons by Ranking Methods", *Biometrics Bulletin*, 1945.
# * J. Demšar, "Statistical Comparisons of Classifiers over Multiple Data Sets", *JMLR* 7,
#   2006.
# * X. Bouthillier et al., "Accounting for Variance in Machine Learning Benchmarks",
#   MLSys 2021.
# * N. Hansen, A. Auger, R. Ros, O. Mersmann, T. Tušar and D. Brockhoff, "COCO: A Platform
#   for Comparing Continuous Optimizers in a Black-Box Setting", *Optimization Methods and
#   Software*, 2021.
# * K. Eggensperger, M. Feurer, F. Hutter, J. Bergstra, J. Snoek, H. Hoos and
#   K. Leyton-Brown, "Towards an Empirical Foundation for Assessing Bayesian Optimization
#   of Hyperparameters", NIPS BayesOpt workshop, 2013.
