# %% [markdown]
# # 6. Constraints and Pareto fronts: when one number is not enough
#
# Real tuning rarely has one number. A model should be accurate *and* fast; a training
# run must not exceed the memory of the card it runs on; a smaller network that is almost
# as good may be the better choice. Two situations cover most of it:
#
# * **black-box constraints**: minimise the validation loss subject to "memory below
#   8 GB" or "training does not diverge", where the constraint is only known by running
#   the training, exactly like the loss;
# * **several objectives**: accuracy *against* latency or model size, where no single
#   configuration is best and the answer is a set of trade-offs, the Pareto front.
#
# This notebook builds the two ideas behind Bayesian optimisation with several outcomes:
# the probability of feasibility, and the hypervolume of a Pareto front. It implements
# both from scratch, then uses the toolkit's `Optimizer` with `constraints=` and
# `objectives=`, and ends by comparing it with random search and random search with twice
# the budget.
#
# **Arc:** intuition and theory → from scratch → the library → an honest baseline →
# references. Set `SMOKE_TEST=1` in the environment to run everything with tiny budgets.

# %%
import math
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from botorch.test_functions.multi_objective import BraninCurrin
from botorch.utils.multi_objective.hypervolume import Hypervolume
from scipy.stats import norm

import bayesopt as bo
from bayesopt import plot
from benchmarks.stats import compare

SMOKE = os.environ.get("SMOKE_TEST", "") not in ("", "0")
if SMOKE:
    print("SMOKE_TEST is on: budgets are shrunk")
torch.set_num_threads(1)  # small GPs: one thread is fastest, and polite on a shared machine
rng = np.random.default_rng(0)  # the from-scratch sections' random draws
warnings.simplefilter("ignore", bo.FallbackWarning)  # the first asks have no model yet

%config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 90, "figure.figsize": (7.5, 3.8), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## Intuition and theory
#
# ### Constraints: an improvement only counts where it is allowed
#
# Write the problem as
#
# $$
# \min_x f(x) \quad \text{subject to} \quad c_k(x) \le 0, \quad k = 1, \dots, K,
# $$
#
# where each $c_k$ is measured by the same expensive run that measures $f$ (the memory a
# training used, say, minus 8 GB). Bayesian optimisation models each $c_k$ with its own
# Gaussian process, next to the one for $f$. At a candidate $x$, the GP of $c_k$ predicts
# a normal distribution $\mathcal{N}(\mu_k(x), \sigma_k^2(x))$, so the **probability of
# feasibility** is
#
# $$
# \mathrm{PF}(x) = \prod_{k=1}^{K} \Pr\big[c_k(x) \le 0\big]
#   = \prod_{k=1}^{K} \Phi\!\left(\frac{-\mu_k(x)}{\sigma_k(x)}\right),
# $$
#
# treating the constraints as independent. Expected improvement measures the improvement
# over the best **feasible** value $f^\star$, and is worth something only if the point
# turns out feasible, so the constrained acquisition is the product (Schonlau et al.,
# 1998; Gardner et al., 2014; Gelbart et al., 2014)
#
# $$
# \alpha_{\mathrm{cEI}}(x) = \mathrm{EI}(x; f^\star)\, \mathrm{PF}(x).
# $$
#
# Before anything feasible has been seen there is no $f^\star$: the search then simply
# maximises $\mathrm{PF}(x)$, to find the feasible region first.
#
# ### Several objectives: the Pareto front and its hypervolume
#
# With objectives $f_1, \dots, f_M$ (all minimised), a point $y$ **dominates** $y'$ when it
# is no worse in every objective and better in at least one. The **Pareto front** of a set
# of observations is the set of those that no other dominates: the trade-offs worth
# considering. Any of them may be the right choice; which one depends on what the user
# values, and the optimiser should find the whole front.
#
# How good is a front? The standard answer is its **hypervolume**: the volume of the
# region that the front dominates, bounded by a **reference point** $r$ that is worse than
# every point one cares about,
#
# $$
# \mathrm{HV}(P) = \mathrm{vol}\Big(\bigcup_{y \in P} [y_1, r_1] \times \dots \times
#   [y_M, r_M]\Big).
# $$
#
# It grows whenever a new point dominates part of the space the front did not, it is
# maximal exactly on the true Pareto front (for a reference point worse than the front),
# and it turns a set into one number. The **hypervolume improvement** of a new point $y$,
# $\mathrm{HVI}(y) = \mathrm{HV}(P \cup \{y\}) - \mathrm{HV}(P)$, plays the role of the
# improvement in EI: its expectation under the GPs' posterior is **EHVI** (Emmerich et al.,
# 2006). With one GP per objective and $P$ the Pareto front of the GPs' posterior means at
# the observations, EHVI has a closed form (Yang et al., 2019): split the space that $P$
# does not dominate into boxes, and the expectation factorises over boxes and objectives.
# Computed in log space (as LogEI is; Ament et al., 2023), it is the toolkit's default for
# one ask; batches use its Monte-Carlo form qLogEHVI (Daulton et al., 2020), and
# qLogNEHVI (Daulton et al., 2021) also integrates over the noise in $P$, at three times
# the cost with three objectives (`ProposeOptions(closed_form="never")` selects it). The
# alternative, **ParEGO** (Knowles, 2006), turns the objectives into one by a random
# weighted Chebyshev scalarisation at every ask,
#
# $$
# s_\lambda(y) = \max_m \lambda_m y_m + \rho \sum_m \lambda_m y_m,
# $$
#
# so that successive asks aim at different parts of the front.

# %% [markdown]
# ## From scratch
#
# ### A GP for the objective, a GP for the constraint, and their product
#
# A one-dimensional toy: minimise $f(x) = \sin(3x) - 0.2x$ on $[0, 4]$ subject to
# $c(x) = 0.5(x - 2.9) + 0.1 \sin(4x) \le 0$ (think of memory that grows with $x$). The
# global minimum near $x = 3.67$ is infeasible; the feasible one is near $x = 1.57$. The
# constraint varies slowly, so its GP gets a longer lengthscale. Two GPs with a squared-exponential
# kernel and fixed hyperparameters are all we need.

# %%
def f_toy(x):
    return np.sin(3 * x) - 0.2 * x


def c_toy(x):
    return 0.5 * (x - 2.9) + 0.1 * np.sin(4 * x)


def gp_posterior(x_train, y_train, x_test, lengthscale=0.35, noise=1e-6):
    """Posterior mean and standard deviation of a zero-mean GP on standardised outputs."""
    mu_y, sd_y = y_train.mean(), y_train.std() + 1e-12
    z = (y_train - mu_y) / sd_y

    def k(a, b):
        return np.exp(-0.5 * (a[:, None] - b[None, :]) ** 2 / lengthscale**2)

    K = k(x_train, x_train) + noise * np.eye(len(x_train))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, z))
    Ks = k(x_test, x_train)
    mean = Ks @ alpha
    v = np.linalg.solve(L, Ks.T)
    var = np.clip(1.0 - (v**2).sum(axis=0), 1e-12, None)
    return mu_y + sd_y * mean, sd_y * np.sqrt(var)


def expected_improvement(mean, sd, best):
    z = (best - mean) / sd
    return sd * (z * norm.cdf(z) + norm.pdf(z))


x_grid = np.linspace(0, 4, 400)
x_obs = np.array([0.3, 1.1, 2.0, 2.7, 3.3, 3.9])
f_obs, c_obs = f_toy(x_obs), c_toy(x_obs)
feasible_obs = c_obs <= 0
f_mean, f_sd = gp_posterior(x_obs, f_obs, x_grid)
c_mean, c_sd = gp_posterior(x_obs, c_obs, x_grid, lengthscale=1.0)
best_feasible = f_obs[feasible_obs].min()
ei = expected_improvement(f_mean, f_sd, best_feasible)
pf = norm.cdf(-c_mean / c_sd)
cei = ei * pf

fig, axes = plt.subplots(3, 1, figsize=(7.5, 7.2), sharex=True)
axes[0].plot(x_grid, f_toy(x_grid), "k--", lw=1, label="f (unknown)")
axes[0].plot(x_grid, f_mean, color="tab:blue", label="GP mean of f")
axes[0].fill_between(x_grid, f_mean - 2 * f_sd, f_mean + 2 * f_sd, color="tab:blue", alpha=0.15,
                     label="± 2 sd")
axes[0].scatter(x_obs[feasible_obs], f_obs[feasible_obs], color="tab:green", zorder=3,
                label="feasible observation")
axes[0].scatter(x_obs[~feasible_obs], f_obs[~feasible_obs], color="tab:red", marker="x",
                zorder=3, label="infeasible observation")
axes[0].set_ylabel("objective")
axes[0].legend(fontsize=7, ncol=2)
axes[1].plot(x_grid, c_toy(x_grid), "k--", lw=1, label="c (unknown)")
axes[1].plot(x_grid, c_mean, color="tab:orange", label="GP mean of c")
axes[1].fill_between(x_grid, c_mean - 2 * c_sd, c_mean + 2 * c_sd, color="tab:orange",
                     alpha=0.15, label="± 2 sd")
axes[1].axhline(0.0, color="0.3", lw=1, label="c = 0: feasible below")
axes[1].set_ylabel("constraint")
axes[1].legend(fontsize=7, ncol=2)
axes[2].plot(x_grid, ei / ei.max(), color="tab:blue", label="EI (scaled to max 1)")
axes[2].plot(x_grid, pf, color="tab:orange", label="probability of feasibility")
axes[2].plot(x_grid, cei / cei.max(), color="tab:purple", lw=2, label="EI x PF (scaled)")
axes[2].axvline(x_grid[np.argmax(ei)], color="tab:blue", ls=":", label="argmax EI")
axes[2].axvline(x_grid[np.argmax(cei)], color="tab:purple", ls="--", label="argmax EI x PF")
axes[2].set_xlabel("x")
axes[2].set_ylabel("acquisition")
axes[2].legend(fontsize=7, ncol=2)
fig.suptitle("Constrained expected improvement: the improvement times the chance it counts")
fig.tight_layout()
plt.show()
print(f"plain EI would evaluate x = {x_grid[np.argmax(ei)]:.2f} "
      f"(c = {c_toy(x_grid[np.argmax(ei)]):+.2f}); constrained EI picks "
      f"x = {x_grid[np.argmax(cei)]:.2f} (c = {c_toy(x_grid[np.argmax(cei)]):+.2f})")

# %% [markdown]
# Plain EI goes where the objective's GP promises most, which is where the constraint is
# violated: an evaluation wasted on a point that cannot be used. Multiplying by the
# probability of feasibility moves the search to where an improvement is likely *and*
# allowed.
#
# ### The Pareto front and its hypervolume, by hand in two dimensions
#
# In two dimensions the dominated region is a staircase. Sort the front by the first
# objective; each point adds the rectangle between itself, the previous step and the
# reference point:
#
# $$
# \mathrm{HV} = \sum_{i=1}^{n} (r_1 - y^{(i)}_1)\,\big(y^{(i-1)}_2 - y^{(i)}_2\big),
# \qquad y^{(0)}_2 = r_2,
# $$
#
# with $y^{(1)}_1 < y^{(2)}_1 < \dots$ (and so $y^{(1)}_2 > y^{(2)}_2 > \dots$ on a front).

# %%
def pareto_mask(Y):
    """Which rows of ``Y`` (n x M, minimised) no other row dominates."""
    n = len(Y)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = (Y <= Y[i]).all(axis=1)
        better = (Y < Y[i]).any(axis=1)
        keep[i] = not (no_worse & better).any()
    return keep


def hypervolume_2d(Y, ref):
    """The area dominated by the points of ``Y`` (n x 2, minimised) and bounded by ``ref``."""
    front = Y[pareto_mask(Y) & (Y < ref).all(axis=1)]
    front = front[np.argsort(front[:, 0])]
    area, previous = 0.0, ref[1]
    for y1, y2 in front:
        area += (ref[0] - y1) * (previous - y2)
        previous = y2
    return area


Y = rng.uniform(0, 1, size=(30, 2)) ** 1.5 @ np.array([[1.0, 0.35], [0.35, 1.0]])
ref = np.array([1.4, 1.4])
mask = pareto_mask(Y)
ours = hypervolume_2d(Y, ref)
theirs = Hypervolume(torch.tensor(-ref)).compute(torch.tensor(-Y[mask]))  # BoTorch maximises
print(f"hypervolume by hand: {ours:.6f}; BoTorch's Hypervolume: {theirs:.6f}")

front = Y[mask][np.argsort(Y[mask][:, 0])]
fig, ax = plt.subplots(figsize=(5.6, 4.6))
ax.fill_between(np.r_[front[:, 0], ref[0]], np.r_[front[:, 1], front[-1, 1]], ref[1],
                step="post", color="tab:blue", alpha=0.15, label=f"dominated area = {ours:.3f}")
ax.scatter(*Y[~mask].T, color="0.6", s=18, label="dominated observation")
ax.scatter(*front.T, color="tab:blue", s=30, zorder=3, label="Pareto front")
ax.step(np.r_[front[:, 0], ref[0]], np.r_[front[:, 1], front[-1, 1]], where="post",
        color="tab:blue", lw=1)
ax.scatter(*ref, color="tab:red", marker="*", s=120, zorder=3, label="reference point r")
ax.set(xlabel="objective 1 (minimised)", ylabel="objective 2 (minimised)",
       title="A Pareto front and the area it dominates")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# The hypervolume improvement of a new point is what EHVI averages. Mapped over the
# objective plane, it is zero wherever a new point would be dominated, and grows the
# further a point pushes the staircase out, most of all where the front has gaps:

# %%
g1, g2 = np.meshgrid(np.linspace(0, 1.4, 80), np.linspace(0, 1.4, 80))
base = hypervolume_2d(Y, ref)
hvi = np.array([[hypervolume_2d(np.vstack([Y, [a, b]]), ref) - base for a, b in zip(r1, r2)]
                for r1, r2 in zip(g1, g2)])
fig, ax = plt.subplots(figsize=(5.8, 4.6))
im = ax.contourf(g1, g2, hvi, levels=20, cmap="viridis")
fig.colorbar(im, ax=ax, label="hypervolume improvement")
ax.scatter(*front.T, color="white", edgecolor="k", s=30, label="Pareto front")
ax.set(xlabel="objective 1 (minimised)", ylabel="objective 2 (minimised)",
       title="Where a new observation would add hypervolume")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# ## The library
#
# ### A constrained study
#
# Branin has three global minima (0.3979). Add a constraint measured with the objective,
# $c(x) = (x_1 / 5)^2 + ((x_2 - 12) / 6)^2 \le 1$, an ellipse in the upper left that
# holds only one of them, at $(-\pi, 12.275)$. A study declares its constraints when it
# is created; `tell` then takes a mapping with the objective (named `"value"` when only
# constraints are declared) and every constraint:

# %%
def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def ellipse(x1, x2):
    return (x1 / 5) ** 2 + ((x2 - 12) / 6) ** 2


BRANIN_MIN = 0.397887
space = bo.Space({"x1": bo.Real(-5, 10), "x2": bo.Real(0, 15)})
N_CONSTRAINED = 12 if SMOKE else 30

opt = bo.Optimizer(space, seed=0, constraints={"ellipse": ("<=", 1.0)})
for _ in range(N_CONSTRAINED):
    trial = opt.ask()
    p = trial.params
    opt.tell(trial, {"value": branin(p["x1"], p["x2"]), "ellipse": ellipse(p["x1"], p["x2"])})
best = opt.best
print(f"best feasible: {best.value:.4f} at x1 = {best.params['x1']:.3f}, "
      f"x2 = {best.params['x2']:.3f} (the feasible optimum is {BRANIN_MIN})")
feasible = [t.feasible for t in opt.trials]
print(f"feasible evaluations: {sum(feasible)} of {len(feasible)}")

# %%
fig, ax = plt.subplots(figsize=(6.2, 4.6))
a, b = np.meshgrid(np.linspace(-5, 10, 200), np.linspace(0, 15, 200))
ax.contour(a, b, np.vectorize(branin)(a, b), levels=np.logspace(-0.5, 2.5, 12), cmap="Greys",
           linewidths=0.7)
ax.contour(a, b, np.vectorize(ellipse)(a, b), levels=[1.0], colors="tab:orange", linewidths=2)
xs = np.array([[t.params["x1"], t.params["x2"]] for t in opt.trials])
ok = np.array(feasible)
ax.scatter(*xs[ok].T, c=np.arange(len(xs))[ok], cmap="Blues", edgecolor="k", s=30,
           label="feasible trial (darker: later)")
ax.scatter(*xs[~ok].T, color="tab:red", marker="x", s=30, label="infeasible trial")
ax.scatter([-math.pi, math.pi, 9.42478], [12.275, 2.275, 2.475], marker="*", s=160,
           color="gold", edgecolor="k", zorder=4, label="Branin's three minima")
ax.plot([], [], color="tab:orange", lw=2, label="constraint boundary")
ax.set(xlabel="x1", ylabel="x2", title="Constrained Branin: where the trials went")
ax.legend(fontsize=7, loc="upper right")
plt.show()

# %% [markdown]
# `plot.feasibility` (from `bayesopt.plot`) shows the same story over time: each trial
# feasible or not, in ask order, and the running share of feasible trials.

# %%
ax = plot.feasibility(opt)
ax.set_title("Constrained Branin: feasibility of the trials in ask order")
plt.show()

# %% [markdown]
# After the initial design, the asks concentrate inside the ellipse and around the one
# minimum it holds; the two other minima, better-looking to a model of the objective
# alone, are left alone because the constraint's GP says they are infeasible.
#
# ### Two objectives: Branin against Currin
#
# BoTorch's `BraninCurrin` pairs a rescaled Branin with Currin's exponential function on
# the unit square; both are minimised and they disagree about where to go. Declare the
# objectives with their directions, and `tell` a mapping:

# %%
problem = BraninCurrin()
REF = problem.ref_point.numpy()  # (18, 6), as in the multi-objective BO literature
MAX_HV = problem.max_hv
mo_space = bo.Space({"u1": bo.Real(0, 1), "u2": bo.Real(0, 1)})
N_MO = 12 if SMOKE else 30


def branin_currin(params):
    y = problem(torch.tensor([[params["u1"], params["u2"]]], dtype=torch.float64))[0]
    return {"branin": float(y[0]), "currin": float(y[1])}


mo = bo.Optimizer(mo_space, seed=0, objectives={"branin": "min", "currin": "min"})
for _ in range(N_MO):
    trial = mo.ask()
    mo.tell(trial, branin_currin(trial.params))
front_trials = mo.pareto_front()
ref_point = {"branin": float(REF[0]), "currin": float(REF[1])}
print(f"{len(front_trials)} trials on the Pareto front of {len(mo.trials)}; hypervolume "
      f"{mo.hypervolume(ref_point):.2f} of at most {MAX_HV:.2f} (reference point {REF})")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
plot.pareto_front(mo, ax=axes[0])
axes[0].set_title("The front bayesopt found")
plot.hypervolume_history(mo, ref_point=ref_point, ax=axes[1])
axes[1].axhline(MAX_HV, color="0.3", ls="--", label="the true front's hypervolume")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## An honest baseline: random search, and random search with twice the budget
#
# One seed proves nothing. Over several seeds, compare the hypervolume regret after the
# budget with random search given the same budget and twice the budget, with the paired
# Wilcoxon test of notebook 4.

# %%
SEEDS = range(3) if SMOKE else range(6)


def final_regret(make, budget, seed):
    study = make(seed)
    for _ in range(budget):
        trial = study.ask()
        study.tell(trial, branin_currin(trial.params))
    Y = np.array([[t.values["branin"], t.values["currin"]] for t in study.trials])
    return math.log10(max(MAX_HV - hypervolume_2d(Y, REF), 1e-12))


objectives = {"branin": "min", "currin": "min"}
runs = {
    "bayesopt": [final_regret(lambda s: bo.Optimizer(mo_space, seed=s, objectives=objectives),
                              N_MO, s) for s in SEEDS],
    "random": [final_regret(lambda s: bo.RandomSearch(mo_space, seed=s, objectives=objectives),
                            N_MO, s) for s in SEEDS],
    "random-2x": [final_regret(lambda s: bo.RandomSearch(mo_space, seed=s,
                                                         objectives=objectives),
                               2 * N_MO, s) for s in SEEDS],
}
for name, values in runs.items():
    print(f"{name:>10}: median log10 HV regret {np.median(values):+.2f} "
          f"[{np.quantile(values, 0.25):+.2f}, {np.quantile(values, 0.75):+.2f}]")
for rival in ("random", "random-2x"):
    result = compare(runs["bayesopt"], runs[rival])
    print(f"bayesopt vs {rival}: {result.outcome.value} (p = {result.p_value:.3g})")

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
for i, (name, values) in enumerate(runs.items()):
    ax.scatter(np.full(len(values), i) + rng.uniform(-0.08, 0.08, len(values)), values, s=20,
               label=name)
ax.set_xticks(range(len(runs)), list(runs))
ax.set(ylabel="final log10 hypervolume regret", title=f"BraninCurrin, {N_MO} evaluations "
       f"(random-2x: {2 * N_MO}), {len(SEEDS)} seeds")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## References
#
# * M. Schonlau, W. J. Welch and D. R. Jones, "Global versus local search in constrained
#   optimization of computer models", *New Developments and Applications in Experimental
#   Design* 34, 1998.
# * J. R. Gardner, M. J. Kusner, Z. Xu, K. Q. Weinberger and J. P. Cunningham, "Bayesian
#   Optimization with Inequality Constraints", ICML 2014.
# * M. A. Gelbart, J. Snoek and R. P. Adams, "Bayesian Optimization with Unknown
#   Constraints", UAI 2014.
# * M. Emmerich, K. C. Giannakoglou and B. Naujoks, "Single- and multiobjective
#   evolutionary optimization assisted by Gaussian random field metamodels", *IEEE
#   Transactions on Evolutionary Computation* 10, 2006 (EHVI).
# * J. Knowles, "ParEGO: a hybrid algorithm with on-line landscape approximation for
#   expensive multiobjective optimization problems", *IEEE Transactions on Evolutionary
#   Computation* 10, 2006.
# * S. Daulton, M. Balandat and E. Bakshy, "Differentiable Expected Hypervolume
#   Improvement for Parallel Multi-Objective Bayesian Optimization", NeurIPS 2020 (qEHVI).
# * S. Daulton, M. Balandat and E. Bakshy, "Parallel Bayesian Optimization of Multiple
#   Noisy Objectives with Expected Hypervolume Improvement", NeurIPS 2021 (qNEHVI).
# * S. Ament, S. Daulton, D. Eriksson, M. Balandat and E. Bakshy, "Unexpected Improvements
#   to Expected Improvement for Bayesian Optimization", NeurIPS 2023 (the log variants).
# * E. Zitzler and L. Thiele, "Multiobjective evolutionary algorithms: a comparative case
#   study and the strength Pareto approach", *IEEE Transactions on Evolutionary
#   Computation* 3, 1999 (the hypervolume indicator).
