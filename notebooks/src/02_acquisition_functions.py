# %% [markdown]
# # 2. Acquisition functions
#
# A GP (notebook 01) tells us, for every untried point, a predicted value and an
# uncertainty. Bayesian optimisation turns that into a decision: **where to evaluate
# next**. The rule that decides is the *acquisition function*. It must trade
# **exploitation** (go where the prediction is good) against **exploration** (go where we
# know little, because the best point may hide there).
#
# This notebook writes the classic acquisition functions from scratch, checks them
# against BoTorch, shows why the toolkit uses *log* expected improvement, runs a BO loop
# one step at a time, looks at batches and pending points, and finally asks whether any
# of it beats random search.
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
from botorch.acquisition import (
    ExpectedImprovement,
    LogExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from botorch.exceptions.warnings import NumericsWarning

import bayesopt as bo
from bayesopt import gp, plot

SMOKE = os.environ.get("SMOKE_TEST", "") not in ("", "0")
if SMOKE:
    print("SMOKE_TEST is on: budgets are shrunk")
torch.set_num_threads(1)  # these GPs are tiny: one thread is fastest, and polite on a shared machine
DT = torch.float64
gen = torch.Generator().manual_seed(0)
# BoTorch warns whenever plain EI is built, for the reason shown below; here that is the point.
warnings.filterwarnings("ignore", category=NumericsWarning)

%config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 90, "figure.figsize": (7.5, 3.6), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## Intuition and theory
#
# Our running example is the Forrester function on $[0, 1]$, a standard one-dimensional
# test problem with a local minimum that traps greedy searches:
#
# $$ f(x) = (6x - 2)^2 \sin(12x - 4), \qquad \min_x f(x) \approx -6.021 \text{ at } x \approx 0.757 .$$
#
# We **minimise**. After $n$ evaluations let $f^* = \min_i y_i$ be the best value so far
# (the *incumbent*), and let the GP posterior at $x$ have mean $\mu(x)$ and standard
# deviation $\sigma(x)$. Write
#
# $$ z(x) = \frac{f^* - \mu(x)}{\sigma(x)} ,$$
#
# the number of standard deviations by which $x$ is predicted to beat the incumbent, and
# $\Phi$, $\varphi$ for the standard normal CDF and density. The classics:
#
# | acquisition | formula (larger is better) | idea |
# |---|---|---|
# | probability of improvement (PI) | $\Phi(z)$ | how likely is $x$ to beat $f^*$ at all? |
# | expected improvement (EI) | $\sigma\,[\,z\,\Phi(z) + \varphi(z)\,]$ | $\mathbb{E}\,[\max(f^* - f(x), 0)]$: how much, on average? |
# | log EI | $\log \mathrm{EI}$, computed stably | same maximiser as EI, usable numerically |
# | upper confidence bound (UCB) | $-\mu(x) + \sqrt{\beta}\,\sigma(x)$ | optimism: assume the function is as good as plausible |
# | Thompson sampling (TS) | $-\tilde f(x)$, $\tilde f \sim$ posterior | draw one plausible function, go to its minimum |
#
# EI's closed form follows from integrating the improvement against the Gaussian
# posterior: $\int_{-\infty}^{f^*} (f^* - f)\, \mathcal{N}(f; \mu, \sigma^2)\, df$. Both
# terms are visible in it: $z\,\Phi(z)$ grows where the mean is good (exploitation) and
# $\varphi(z)\,\sigma$ grows with the uncertainty (exploration). PI has no such term for
# the *size* of an improvement, so it happily takes a near-certain improvement of
# $10^{-6}$; UCB makes the trade-off explicit through $\beta$ (the toolkit uses
# $\beta = 4$, i.e. two standard deviations).
#
# BoTorch and the toolkit *maximise* acquisitions; to minimise $f$ they model $-f$. The
# formulas above are already written for minimisation with "larger is better".

# %% [markdown]
# ## From scratch
#
# ### A posterior to work with
#
# Four evaluations, and the toolkit's GP fitted to them exactly as in notebook 01
# (unit-cube inputs, standardised outputs). Everything below is computed from $\mu$ and
# $\sigma$ on a grid, in standardised units (an affine change of units moves no maximiser).

# %%
def forrester(x):
    return (6 * x - 2) ** 2 * torch.sin(12 * x - 4)


X_MIN, F_MIN = 0.75724876, -6.020740055
xs = torch.linspace(0, 1, 201 if SMOKE else 501, dtype=DT)
X = torch.tensor([0.05, 0.35, 0.55, 0.95], dtype=DT)
y = forrester(X)
y_mean, y_sd = y.mean(), y.std()
model = gp.fit(X[:, None], gp.standardize(y), seed=0)  # the GP models standardised f
with torch.no_grad():
    post = model.posterior(xs[:, None])
    mu, sigma = post.mean.squeeze(-1), post.variance.squeeze(-1).sqrt()
best_f = float(gp.standardize(y).min())  # the incumbent, standardised

# %% [markdown]
# ### The acquisition functions
#
# Each is a line or two. Thompson sampling draws one function from the posterior on the
# grid (the joint Gaussian over all grid points, as in notebook 01).

# %%
normal = torch.distributions.Normal(torch.zeros((), dtype=DT), torch.ones((), dtype=DT))
BETA = 4.0


def probability_of_improvement(mu, sigma, best_f):
    return normal.cdf((best_f - mu) / sigma)


def expected_improvement(mu, sigma, best_f):
    z = (best_f - mu) / sigma
    return sigma * (z * normal.cdf(z) + normal.log_prob(z).exp())


def upper_confidence_bound(mu, sigma, beta=BETA):
    return -mu + math.sqrt(beta) * sigma


def thompson_sample(model, x):
    with torch.no_grad():
        cov = model.posterior(x[:, None]).covariance_matrix
    evals, evecs = torch.linalg.eigh(cov)
    draw = evecs @ (evals.clamp_min(0).sqrt() * torch.randn(len(x), generator=gen, dtype=DT))
    return -(mu + draw)  # larger is better: minus a plausible f


acq = {
    "EI": expected_improvement(mu, sigma, best_f),
    "PI": probability_of_improvement(mu, sigma, best_f),
    "UCB ($\\beta$ = 4)": upper_confidence_bound(mu, sigma),
    "Thompson sample ($-\\tilde f$)": thompson_sample(model, xs),
}

# %% [markdown]
# ### Log EI, from scratch
#
# EI's formula is fine on paper and fragile in floating point: far from the incumbent
# ($z \ll 0$) both terms of $z\Phi(z) + \varphi(z)$ are tiny and nearly cancel, and below
# $z \approx -38$ they underflow to exactly zero in double precision. Ament et al. (2023)
# compute $\log \mathrm{EI} = \log \sigma + \log h(z)$, $h(z) = \varphi(z) + z\Phi(z)$,
# in three regimes, using the scaled complementary error function
# $\operatorname{erfcx}(t) = e^{t^2} \operatorname{erfc}(t)$ to avoid the cancellation:
#
# $$
# \log h(z) = \begin{cases}
#   \log\big(\varphi(z) + z\Phi(z)\big) & z > -1 \\[2pt]
#   -\tfrac{z^2}{2} - \tfrac{1}{2}\log 2\pi + \operatorname{log1mexp}\!\Big(\log\big(|z| \operatorname{erfcx}(|z|/\sqrt2)\big) + \tfrac{1}{2}\log\tfrac{\pi}{2}\Big) & -1/\sqrt{\epsilon} < z \le -1 \\[2pt]
#   -\tfrac{z^2}{2} - \tfrac{1}{2}\log 2\pi - 2 \log |z| & z \le -1/\sqrt{\epsilon}
# \end{cases}
# $$
#
# with $\operatorname{log1mexp}(a) = \log(1 - e^a)$ evaluated stably and $\epsilon$ the
# machine epsilon.

# %%
def log1mexp(a):
    """log(1 - exp(a)) for a < 0, accurate everywhere."""
    return torch.where(a > -math.log(2), torch.log(-torch.expm1(a)), torch.log1p(-torch.exp(a)))


def log_h(z):
    eps = torch.finfo(z.dtype).eps
    c1, c2 = 0.5 * math.log(2 * math.pi), 0.5 * math.log(math.pi / 2)
    z_hi = z.clamp_min(-1)  # each branch only sees inputs where it is valid (no NaN gradients)
    z_mid = z.clamp(-1 / math.sqrt(eps), -1)
    z_lo = z.clamp_max(-1 / math.sqrt(eps))
    hi = torch.log(normal.log_prob(z_hi).exp() + z_hi * normal.cdf(z_hi))
    mid = -0.5 * z_mid**2 - c1 + log1mexp(torch.log(torch.special.erfcx(-z_mid / math.sqrt(2)) * z_mid.abs()) + c2)
    lo = -0.5 * z_lo**2 - c1 - 2 * torch.log(z_lo.abs())
    return torch.where(z > -1, hi, torch.where(z > -1 / math.sqrt(eps), mid, lo))


def log_expected_improvement(mu, sigma, best_f):
    return torch.log(sigma) + log_h((best_f - mu) / sigma)


acq = {"EI": acq["EI"], "log EI": log_expected_improvement(mu, sigma, best_f), **{k: v for k, v in acq.items() if k != "EI"}}

# %% [markdown]
# ### One posterior, five acquisitions
#
# The top panel is the posterior; below it each acquisition on the same grid, with its
# maximiser (the point it would evaluate next) marked.

# %%
fig, axes = plt.subplots(len(acq) + 1, 1, figsize=(8, 11), sharex=True, layout="constrained")
m, s = y_mean + y_sd * mu, y_sd * sigma
axes[0].fill_between(xs, m - 2 * s, m + 2 * s, alpha=0.2, label="posterior mean ± 2 s.d.")
axes[0].plot(xs, m, label="posterior mean")
axes[0].plot(xs, forrester(xs), "k:", label="Forrester $f$ (hidden)")
axes[0].scatter(X, y, color="k", zorder=3, label="observations")
axes[0].axhline(float(y.min()), color="tab:green", linewidth=0.8, label="incumbent $f^*$")
axes[0].set(ylabel="$f(x)$", title="Posterior after four evaluations")
axes[0].legend(fontsize="small", ncol=2)
for ax, (name, values), color in zip(axes[1:], acq.items(), ["C1", "C2", "C3", "C4", "C5"]):
    ax.plot(xs, values, color=color, label=name)
    k = int(values.argmax())
    ax.axvline(float(xs[k]), color="tab:red", linestyle=":", label=f"maximiser x = {float(xs[k]):.3f}")
    ax.set_ylabel(name.split(" (")[0], fontsize="small")
    ax.legend(fontsize="small", loc="upper left")
axes[-1].set_xlabel("$x$")
plt.show()

# %% [markdown]
# What to notice:
#
# * **EI and log EI** peak at the same $x$ (the logarithm is monotone) but look very
#   different: EI is essentially zero over much of the domain, log EI is informative
#   everywhere.
# * **PI** piles up right next to the incumbent, where improvement is likely if tiny.
# * **UCB** follows the upper edge of the band for $-f$: it likes the big gaps.
# * **Thompson sampling** is random: run the cell again and it proposes another point. Its
#   randomness is its exploration.
#
# ### Checking against BoTorch
#
# BoTorch implements the same closed forms (it minimises when `maximize=False`). On the
# same model they must agree up to tiny numerical differences: here the posterior was
# computed jointly over the whole grid, BoTorch computes it point by point.

# %%
grid = xs[:, None, None]  # BoTorch wants batch x q x d
with torch.no_grad():
    botorch_values = {
        "EI": ExpectedImprovement(model, best_f=best_f, maximize=False)(grid),
        "log EI": LogExpectedImprovement(model, best_f=best_f, maximize=False)(grid),
        "PI": ProbabilityOfImprovement(model, best_f=best_f, maximize=False)(grid),
        "UCB ($\\beta$ = 4)": UpperConfidenceBound(model, beta=BETA, maximize=False)(grid),
    }
for name, theirs in botorch_values.items():
    ours = acq[name]
    print(f"{name:18s} max |ours - BoTorch| = {float((ours - theirs).abs().max()):.2e}")

# %% [markdown]
# ### Why log EI exists
#
# The cliff is easy to see on the standard scale ($\sigma = 1$): the naive formula,
# in single and double precision, against the stable log EI, and the gradient
# $\partial\,\mathrm{EI} / \partial z = \Phi(z)$ that a gradient-based optimiser of the
# acquisition would follow.

# %%
z = torch.linspace(-60, 5, 400 if SMOKE else 2000, dtype=DT)
naive64 = z * normal.cdf(z) + normal.log_prob(z).exp()
z32 = z.float()
normal32 = torch.distributions.Normal(torch.zeros(()), torch.ones(()))
naive32 = z32 * normal32.cdf(z32) + normal32.log_prob(z32).exp()
stable = log_h(z)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
ln10 = math.log(10)
ax1.plot(z, stable / ln10, "k", linewidth=3, alpha=0.4, label="log EI (stable), float64")
with np.errstate(divide="ignore", invalid="ignore"):
    ax1.plot(z, np.log10(naive64.numpy()), label="log of naive EI, float64")
    ax1.plot(z, np.log10(naive32.double().numpy()), label="log of naive EI, float32")
ax1.set(xlabel="$z = (f^* - \\mu)/\\sigma$", ylabel="$\\log_{10} \\mathrm{EI}$ ($\\sigma$ = 1)",
        title="Naive EI underflows (and is inaccurate before that)")
ax1.legend(fontsize="small")
with torch.enable_grad():
    zg = z.clone().requires_grad_(True)
    (zg * normal.cdf(zg) + normal.log_prob(zg).exp()).sum().backward()
    grad_naive = zg.grad.clone()
    zg.grad = None
    log_h(zg).sum().backward()
    grad_log = zg.grad.clone()
ax2.plot(z, grad_naive.abs().clamp_min(1e-320).log10(),
         label="$|\\partial \\mathrm{EI}/\\partial z|$ (naive; exact zeros drawn at $10^{-320}$)")
ax2.plot(z, grad_log.abs().log10(), label="$|\\partial \\log \\mathrm{EI}/\\partial z|$ (stable)")
ax2.set(xlabel="$z$", ylabel="$\\log_{10}$ |gradient|", title="The gradient vanishes with it")
ax2.legend(fontsize="small")
plt.show()
print("smallest z where naive float64 EI is still > 0:", float(z[naive64 > 0].min()))
print("smallest z where naive float32 EI is still > 0:", float(z[naive32 > 0].min()))

# %% [markdown]
# The trouble starts long before the underflow: $\Phi(z)$ itself is below the float64
# resolution of $1 + \operatorname{erf}$ for $z \lesssim -8$ (torch returns exactly 0 from
# about $z = -8.3$), after which the naive formula computes $\varphi(z)$ alone, too large by
# a factor of about $z^2$, and its gradient is rounding noise.

# %% [markdown]
# Does this happen in practice? Yes, and more so as optimisation succeeds: once the GP
# has seen a few points that are much worse than the incumbent, its posterior there is
# confidently bad, $z$ is hugely negative, and EI is exactly zero over much of the
# space. Here, after twelve evaluations of the Forrester function:

# %%
X12 = torch.quasirandom.SobolEngine(1, scramble=True, seed=1).draw(12, dtype=DT).squeeze(-1)
y12 = forrester(X12)
model12 = gp.fit(X12[:, None], gp.standardize(y12), seed=0)
best12 = float(gp.standardize(y12).min())
with torch.no_grad():
    ei = ExpectedImprovement(model12, best_f=best12, maximize=False)(grid)
    log_ei = LogExpectedImprovement(model12, best_f=best12, maximize=False)(grid)
zero = ei == 0
print(f"EI is exactly 0 on {float(zero.double().mean()):.0%} of the grid; "
      f"log EI is finite on {float(torch.isfinite(log_ei).double().mean()):.0%} of it "
      f"(min {float(log_ei.min()):.0f}).")

fig, ax = plt.subplots()
with np.errstate(divide="ignore"):
    ax.plot(xs, np.log10(ei.numpy()), linewidth=3, alpha=0.5, label="$\\log_{10}$ EI (naive: $-\\infty$ where EI = 0)")
ax.plot(xs, log_ei / ln10, "k", linewidth=1, label="log EI / ln 10 (stable)")
ax.scatter(xs[zero], np.full(int(zero.sum()), float(log_ei.min()) / ln10), s=4, color="tab:red",
           label="grid points where EI == 0")
ax.set(xlabel="$x$", ylabel="$\\log_{10}$ acquisition", title="Twelve evaluations in: where EI is flat zero")
ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# Wherever EI is exactly zero, an optimiser of the acquisition has neither a value nor a
# gradient to follow: it can only stumble on the good region by its random starts. Log EI
# keeps a useful slope everywhere, with the same maximiser. That is why the toolkit's
# acquisitions are the log variants (`qlognei` by default, `logei`, and `pi` as log PI).
#
# ## The library: a BO loop, one step at a time
#
# `bo.Optimizer` runs this loop behind `ask`. A few Sobol points first (the *initial
# design*), then on every ask: fit the GP to all results, build the acquisition, maximise
# it, return the maximiser. The default acquisition is `qlognei` (BoTorch's
# qLogNoisyExpectedImprovement: log EI that also handles noise, batches and pending
# points; on noiseless data with nothing pending it is evaluated as the analytic log EI
# above).
#
# Below, one figure per step, from a three-point initial design. `bayesopt.plot.slice_1d` refits the optimiser's surrogate
# from its trials and draws its posterior (top) and acquisition (bottom); the red line is
# the point `opt.ask()` then returned. (The plotted acquisition is a refit, so its maximum
# can differ slightly from the optimiser's own choice.)

# %%
space = bo.Space({"x": bo.Real(0.0, 1.0)})


def f(params):
    """The objective as the toolkit sees it: params dict -> float."""
    return float(forrester(torch.tensor(params["x"], dtype=DT)))


opt = bo.Optimizer(space, seed=1, n_initial=3)
for _ in range(3):  # the initial design
    trial = opt.ask()
    opt.tell(trial, f(trial.params))
print("initial design:", [round(t.params["x"], 3) for t in opt.trials])

# %%
n_steps = 2 if SMOKE else 7
for step in range(n_steps):
    fig = plot.slice_1d(opt, objective=f)
    trial = opt.ask()
    for ax in fig.axes:
        ax.axvline(trial.params["x"], color="tab:red", linewidth=2, alpha=0.6, label="chosen by opt.ask()")
        ax.legend(fontsize="x-small", loc="upper left")
    value = f(trial.params)
    fig.suptitle(f"step {step + 1}: x = {trial.params['x']:.3f}, f(x) = {value:.3f}")
    plt.show()
    opt.tell(trial, value)
print(f"best after {len(opt.trials)} evaluations: x = {opt.best.params['x']:.4f}, f = {opt.best.value:.4f} "
      f"(true minimum {F_MIN:.4f} at x = {X_MIN:.4f})")

# %% [markdown]
# Watch the two panels together: the acquisition is high wherever the band is wide *and*
# reaches below the incumbent. Early steps go to the edges and gaps, where the band is
# widest; once a point lands in the deep basin near $x \approx 0.76$, the acquisition
# collapses around it and the remaining steps refine the minimum. The trial history
# tells the same story:

# %%
ax = plot.history(opt)
ax.set_title("Every evaluation, and the best so far")
plt.show()

# %% [markdown]
# ### When it goes wrong
#
# The same loop from another initial design (seed 0), ten evaluations:

# %%
opt_trap = bo.Optimizer(space, seed=0, n_initial=3)
for _ in range(10):
    trial = opt_trap.ask()
    opt_trap.tell(trial, f(trial.params))
fig = plot.slice_1d(opt_trap, objective=f)
fig.suptitle(f"seed 0 after 10 evaluations: best f = {opt_trap.best.value:.3f} at x = {opt_trap.best.params['x']:.3f}")
plt.show()

# %% [markdown]
# When a run misses the basin, as this one did when the notebook was last run (the title
# says whether it still does), the reason is visible: the points it saw on the right were all bad or unremarkable, so
# the smooth GP believes the function rises from about $x = 0.5$ on, and its band there
# never reaches far below the incumbent. Log EI then sees more to gain in refining the
# local minimum on the left. **An acquisition function can only explore what the
# posterior considers plausible**: a narrow, deep valley that the data give no hint of
# is, to the model, improbable. Remedies are a larger initial design (the default is
# $\max(5, 2d + 1)$ points, not three), a more explorative acquisition (UCB with a larger
# $eta$, Thompson sampling), or simply more evaluations. The baseline section below
# shows how often this happens over many seeds.
#
# ## Batches and pending points
#
# Evaluations often run in parallel: four GPUs, four trials at once. Asking for a batch,
# `opt.ask(4)`, must not return the same point four times. The joint version of EI over
# a batch $x_1, \dots, x_q$ is
#
# $$ \mathrm{qEI}(x_1, \dots, x_q) = \mathbb{E}\Big[\max_{j}\, \big(f^* - f(x_j)\big)^+\Big], $$
#
# the expected improvement of the best point in the batch under the *joint* posterior.
# It has no closed form; BoTorch estimates it by Monte Carlo, drawing joint posterior
# samples. Points proposed close together are strongly correlated, so they add little
# over one of them: the maximiser of qEI spreads out.
#
# The same mechanism handles **pending** trials, asked but not yet told: they enter the
# acquisition as points whose outcomes are integrated over ("fantasised"). Near a pending
# point nothing more can be gained, so the acquisition drops there.

# %%
opt_b = bo.Optimizer(space, seed=1, n_initial=4)
for trial in opt_b.ask(4):
    opt_b.tell(trial, f(trial.params))
view_before = plot.fit_surrogate(opt_b)  # no pending trials yet
batch = opt_b.ask(4)
print("batch:", [round(t.params["x"], 3) for t in batch], "| pending:", len(opt_b.pending))
view_pending = plot.fit_surrogate(opt_b)  # the same data, four trials pending

fig, axes = plt.subplots(2, 2, figsize=(12, 6), sharex=True, layout="constrained",
                         gridspec_kw={"height_ratios": [2, 1]})
plot.slice_1d(view_before, objective=f, axes=axes[:, 0])
plot.slice_1d(view_pending, objective=f, axes=axes[:, 1])
for ax in axes[:, 0]:
    for t in batch:
        ax.axvline(t.params["x"], color="tab:red", alpha=0.5)
    ax.lines[-1].set_label("the batch asked next")
    ax.legend(fontsize="x-small", loc="upper left")
axes[0, 0].set_title("before: the batch of 4 that opt.ask(4) returned (red)")
axes[0, 1].set_title("after: those 4 are pending (dashed); acquisition of a 5th point")
plt.show()

# %% [markdown]
# On the left, the four points of one batch are spread over the promising region rather
# than stacked on the single best point. On the right the same data with the batch
# pending: the acquisition for a fifth point is pushed away from all four. The same
# happens one ask at a time, when workers finish at different moments:

# %%
a = opt_b.ask()
b = opt_b.ask()
print(f"two asks while {len(opt_b.pending) - 2} others are pending: x = {a.params['x']:.3f} and {b.params['x']:.3f}")
for t in [*batch, a, b]:  # tell in any order; every told trial leaves the pending set
    opt_b.tell(t, f(t.params))
print("pending now:", len(opt_b.pending), "| best:", round(opt_b.best.value, 4))

# %% [markdown]
# ## An honest baseline: random search
#
# All of this machinery has to beat the simplest strategy there is: sample uniformly at
# random. And since BO costs compute per step, the fair comparison also includes random
# search with **twice** the evaluations (notebook 04 discusses why that baseline matters).
#
# One run proves nothing (the initial design is random, and so is Thompson sampling), so
# each optimiser runs with several seeds, and we plot the median and the interquartile band
# of the simple regret $\min_{t \le T} f(x_t) - f_{\min}$ with `bayesopt.plot.convergence`.

# %%
n_seeds, budget = (2, 8) if SMOKE else (10, 20)
runs = {}
for acquisition in ["qlognei", "ucb", "pi", "ts"]:
    runs[f"bayesopt ({acquisition})"] = []
    for seed in range(n_seeds):
        o = bo.Optimizer(space, seed=seed, acquisition=acquisition)
        for _ in range(budget):
            t = o.ask()
            o.tell(t, f(t.params))
        runs[f"bayesopt ({acquisition})"].append(o)
for name, factor in [("random", 1), ("random 2x", 2)]:
    runs[name] = []
    for seed in range(n_seeds):
        rs = bo.RandomSearch(space, seed=seed)  # the same seeds: random 2x extends random's draws
        for _ in range(factor * budget):
            t = rs.ask()
            rs.tell(t, f(t.params))
        runs[name].append(rs)

fig, ax = plt.subplots(figsize=(8, 4.5))
plot.convergence(runs, optimum=F_MIN, budget_factor={"random 2x": 2}, ax=ax)
ax.set_title(f"Forrester, {n_seeds} seeds: median and 25–75 % band of the regret")
plt.show()

# %% [markdown]
# How to read it: each curve is the median over seeds of the best regret found so far, the
# band the middle half of the seeds; "random 2x" at trial $t$ is the best of its first $2t$
# draws. In the first few trials all methods are alike: there the optimiser *is* a
# space-filling random design. After that, on a smooth one-dimensional function where
# the GP is the right model, the median BO run with log EI, UCB or Thompson sampling
# should pull away from random search by orders of magnitude in regret once it has found
# the basin. Not on every seed: a band whose upper edge stays high means some runs were
# trapped in the local minimum, as above. PI, the greediest rule, is the one most prone
# to that. A 2x budget buys random search a steady but small gain: on this problem
# regret falls only slowly with more uniform samples.
#
# Do not generalise from this plot: one dimension is the easiest case for both the GP
# and random search, and ten seeds on one function say nothing about another. Notebook
# 04 shows how to compare optimisers across problems without fooling yourself.
#
# ## References
#
# * H. J. Kushner, "A New Method of Locating the Maximum Point of an Arbitrary Multipeak
#   Curve in the Presence of Noise", *Journal of Basic Engineering*, 1964 (PI).
# * J. Močkus, "On Bayesian Methods for Seeking the Extremum", 1975, and D. R. Jones,
#   M. Schonlau and W. J. Welch, "Efficient Global Optimization of Expensive Black-Box
#   Functions", *Journal of Global Optimization*, 1998 (EI, EGO).
# * N. Srinivas, A. Krause, S. Kakade and M. Seeger, "Gaussian Process Optimization in
#   the Bandit Setting: No Regret and Experimental Design", ICML 2010 (GP-UCB).
# * W. R. Thompson, "On the Likelihood that One Unknown Probability Exceeds Another in
#   View of the Evidence of Two Samples", *Biometrika*, 1933; D. Russo and B. Van Roy,
#   "Learning to Optimize via Posterior Sampling", *Mathematics of Operations Research*,
#   2014 (Thompson sampling).
# * S. Ament, S. Daulton, D. Eriksson, M. Balandat and E. Bakshy, "Unexpected
#   Improvements to Expected Improvement for Bayesian Optimization", NeurIPS 2023 (LogEI).
# * D. Ginsbourger, R. Le Riche and L. Carraro, "Kriging Is Well-Suited to Parallelize
#   Optimization", 2010; J. T. Wilson, F. Hutter and M. P. Deisenroth, "Maximizing
#   Acquisition Functions for Bayesian Optimization", NeurIPS 2018 (batch acquisitions,
#   Monte-Carlo qEI).
# * A. I. J. Forrester, A. Sóbester and A. J. Keane, *Engineering Design via Surrogate
#   Modelling*, Wiley, 2008 (the test function).
# * P. I. Frazier, "A Tutorial on Bayesian Optimization", arXiv:1807.02811, 2018;
#   R. Garnett, *Bayesian Optimization*, Cambridge University Press, 2023, chapters 7–8.
# * M. Balandat et al., "BoTorch: A Framework for Efficient Monte-Carlo Bayesian
#   Optimization", NeurIPS 2020.
