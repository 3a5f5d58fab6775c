"""Model-based multi-fidelity optimisation: the budget of a trial is part of the study.

A trial's budget is its ``step`` in ``opt.report(trial, step, value)``: epochs,
iterations, a data fraction. ``Optimizer`` uses the reports of trials stopped early in one
of two ways:

* **rungs** (BOHB-style; Falkner et al., 2018). The schedule is a pruner's (``Hyperband``,
  ``ASHA``): trials start cheap and the best go on. The GP proposes new configurations
  from the values at the largest budget (*rung*) that at least ``d + 2`` trials have
  reached (``choose_rung``), so the lower rungs serve as a warm-up until the higher ones
  fill. This is what ``Optimizer(space, pruner=...)`` does with any pruner.
* **gp** (a multi-fidelity GP). The budget is an input of the surrogate
  (``gp.fidelity``); every report of every trial is an observation (a learning curve is a
  trace of observations at increasing budgets). An ask picks the configuration by LogEI
  at the full budget, then the budget to train it to by the knowledge gradient per unit
  cost (``choose_budget``): the cheapest step that tells enough about the full one. The
  trial carries it as ``trial.budget``, and ``should_stop`` stops the trial there.

``Optimizer(space, fidelity=Fidelity(1, 50))`` declares the budget range; its ``model``
chooses the way. **The default is ``"gp"``** (Matérn kernel, budgets by the knowledge
gradient per cost, promotion of the predicted best), because it was the better of the two
in the ``multifidelity`` benchmark (``benchmarks/results/multifidelity/REPORT.md``): on
the tabular MLP learning curves its median incumbent was lower than BOHB-style's at a cost
of 5, 10 and 20 full trainings, and on BoTorch's multi-fidelity Hartmann and Branin it was
the best contender at a cost of 10 and 20. ``"rungs"`` stays what a pruner gives. The
knowledge gradient per cost tied the two other cost-aware rules, ``budget_rule="aei"`` and
``acquisition="mes"``, on the multi-fidelity Hartmann-6 and Branin
(``benchmarks/results/multifidelity/budget_rules``), and is the cheapest of the three.

Example:
    >>> import bayesopt as bo
    >>> space = bo.Space({"lr": bo.Real(1e-4, 1e-1, log=True)})
    >>> opt = bo.Optimizer(space, seed=0, fidelity=bo.multifidelity.Fidelity(1, 27))
    >>> trial = opt.ask()  # the initial design starts at the full budget
    >>> trial.budget, [t.budget for t in opt.ask(4)]
    (27, [9, 3, 1, 1])
    >>> rungs = bo.multifidelity.Fidelity(1, 27, model="rungs")
    >>> bo.Optimizer(space, seed=0, fidelity=rungs).pruner
    Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.cost_aware import InverseCostWeightedUtility
from botorch.acquisition.fixed_feature import FixedFeatureAcquisitionFunction
from botorch.models.model import Model
from torch import Tensor

from bayesopt._rng import seeded_torch
from bayesopt.gp.fidelity import FIDELITY_KERNELS
from bayesopt.pruners import Hyperband, Pruner
from bayesopt.space import DTYPE, Space
from bayesopt.trial import Trial, TrialState

__all__ = [
    "ACQUISITIONS",
    "BUDGET_RULES",
    "DEFAULT_MODEL",
    "MODELS",
    "Fidelity",
    "RungData",
    "choose_budget",
    "choose_rung",
    "curve_data",
    "initial_budgets",
    "kg_choice",
    "mes_acquisition",
    "promotion",
    "target_acquisition",
]

MODELS = ("rungs", "gp")
ACQUISITIONS = ("logei", "mes", "kg")
"""How the ``"gp"`` model chooses what to train (``Fidelity.acquisition``)."""
BUDGET_RULES = ("kg", "aei")
"""How the ``"gp"`` model picks a configuration's budget (``Fidelity.budget_rule``)."""
DEFAULT_MODEL = "gp"
"""The way ``Fidelity`` uses the budgets by default; see the module's docstring."""
KG_POINTS = 64
"""Standard-normal quantiles over which ``choose_budget`` averages the knowledge gradient."""


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Fidelity: `{name}` must be a number, but got {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"Fidelity: `{name}` must be finite, but got {value!r}.")
    return value


@dataclass(frozen=True)
class Fidelity:
    """The budget range of a study, and how the optimiser uses it.

    Args:
        min_step: the smallest budget worth training to (> 0).
        max_step: the full budget (> ``min_step``): the fidelity at which the study is
            judged. Reports outside ``[min_step, max_step]`` are errors.
        model: ``"gp"`` (a multi-fidelity GP with cost-aware budgets, the default) or
            ``"rungs"`` (BOHB-style); see the module's docstring.
        reduction_factor: ``eta`` of the budget grid ``max_step * eta**-k`` (the rungs of
            ``Hyperband``, and the budgets the ``"gp"`` model chooses from).
        fixed_cost: the cost of starting a trial, in steps (``"gp"``: a budget ``s``
            costs ``fixed_cost + s``).
        kernel: the ``"gp"`` model's kernel, one of ``gp.fidelity.FIDELITY_KERNELS``.
        random_fraction: ``"rungs"``: the share of asks (after the initial design) that
            draw a uniform configuration instead of the GP's, as BOHB does (its ``rho``,
            1/3 by default), so that the search keeps exploring while the GP exploits.
        acquisition: ``"gp"``: ``"logei"`` (the default) picks the configuration by LogEI
            at the full budget and then its budget by ``budget_rule``; ``"mes"`` picks
            both at once by multi-fidelity max-value entropy search per unit cost
            (``mes_acquisition``); ``"kg"`` picks both at once by BoTorch's one-shot
            multi-fidelity knowledge gradient per unit cost (``kg_choice``). Asks of
            several points use ``"logei"``.
        budget_rule: ``"gp"``: how the budget of a configuration is chosen (see
            ``choose_budget``). ``"kg"`` (the default): the knowledge gradient about the
            full budget per unit cost. ``"aei"``: the fidelity factors of Huang et al.'s
            augmented expected improvement (2006), the correlation of the budget's
            observation with the full-budget value times its signal share, per unit cost
            relative to the full budget's.
        promote: ``"gp"``: before the acquisition, train the configuration with the best
            predicted full-budget value to the full budget when it was only seen at
            lower ones and is predicted to beat every configuration trained to the full
            budget (``promotion``).

    Example:
        >>> Fidelity(1, 50).budgets
        (2, 6, 17, 50)
    """

    min_step: float
    max_step: float
    model: str = DEFAULT_MODEL
    reduction_factor: int = 3
    fixed_cost: float = 0.0
    kernel: str = "matern"
    promote: bool = True
    random_fraction: float = 1 / 3
    budget_rule: str = "kg"
    acquisition: str = "logei"

    def __post_init__(self) -> None:
        lo, hi = _number("min_step", self.min_step), _number("max_step", self.max_step)
        if not 0 < lo < hi:
            raise ValueError(
                f"Fidelity: `0 < min_step < max_step` must hold, but got ({lo!r}, {hi!r})."
            )
        if self.model not in MODELS:
            raise ValueError(f"Fidelity: `model` must be one of {MODELS}, but got {self.model!r}.")
        eta = self.reduction_factor
        if isinstance(eta, bool) or not isinstance(eta, numbers.Integral) or eta < 2:
            raise ValueError(f"Fidelity: `reduction_factor` must be an int >= 2, but got {eta!r}.")
        if _number("fixed_cost", self.fixed_cost) < 0:
            raise ValueError(f"Fidelity: `fixed_cost` must be >= 0, but got {self.fixed_cost!r}.")
        fraction = _number("random_fraction", self.random_fraction)
        if not 0 <= fraction <= 1:
            raise ValueError(
                f"Fidelity: `random_fraction` must lie in [0, 1], but got {fraction!r}."
            )
        if not isinstance(self.promote, bool):
            raise TypeError(f"Fidelity: `promote` must be a bool, but got {self.promote!r}.")
        if self.acquisition not in ACQUISITIONS:
            raise ValueError(
                f"Fidelity: `acquisition` must be one of {ACQUISITIONS}, but got "
                f"{self.acquisition!r}."
            )
        if self.budget_rule not in BUDGET_RULES:
            raise ValueError(
                f"Fidelity: `budget_rule` must be one of {BUDGET_RULES}, but got "
                f"{self.budget_rule!r}."
            )
        if self.kernel not in FIDELITY_KERNELS:
            raise ValueError(
                f"Fidelity: `kernel` must be one of {FIDELITY_KERNELS}, but got {self.kernel!r}."
            )

    @property
    def integer(self) -> bool:
        """Whether budgets are whole steps (both ends are ints)."""
        return isinstance(self.min_step, numbers.Integral) and isinstance(
            self.max_step, numbers.Integral
        )

    @property
    def budgets(self) -> tuple[float, ...]:
        """The budget grid, ascending: ``max_step * eta**-k`` down to ``min_step`` (rounded
        up to whole steps when ``integer``)."""
        eta = self.reduction_factor
        s_max = math.floor(math.log(self.max_step / self.min_step, eta) + 1e-9)
        grid = [self.max_step * float(eta) ** -k for k in range(s_max, -1, -1)]
        if self.integer:
            out = sorted({min(int(self.max_step), math.ceil(b - 1e-9)) for b in grid})
            return tuple(out)
        return (*grid[:-1], self.max_step)

    def to_unit(self, step: float | Tensor) -> float | Tensor:
        """The budget's GP coordinate: 0 at ``min_step``, 1 at ``max_step``, log scale."""
        span = math.log(self.max_step / self.min_step)
        if isinstance(step, Tensor):
            return (torch.log(step / self.min_step) / span).clamp(0.0, 1.0)
        return min(max(math.log(step / self.min_step) / span, 0.0), 1.0)

    def cost(self, step: float) -> float:
        """What training to ``step`` costs: ``fixed_cost + step``."""
        return self.fixed_cost + step

    def from_unit(self, s: Tensor) -> Tensor:
        """The budget at GP coordinate ``s`` (the inverse of ``to_unit``)."""
        return self.min_step * torch.exp(s * math.log(self.max_step / self.min_step))

    def check_step(self, step: float) -> None:
        """Raise ``ValueError`` for a step outside ``[min_step, max_step]``."""
        if not self.min_step <= step <= self.max_step:
            raise ValueError(
                f"`step` {step!r} is outside the fidelity range [{self.min_step!r}, "
                f"{self.max_step!r}]."
            )

    def schedule(self) -> Hyperband:
        """The pruner of ``model="rungs"`` when none is given: ``Hyperband`` over the range."""
        return Hyperband(self.min_step, self.max_step, self.reduction_factor)


def initial_budgets(fidelity: Fidelity, n: int) -> list[float]:
    """Budgets of the ``"gp"`` model's ``n`` initial-design trials, in ask order.

    Shares follow Hyperband's most aggressive bracket (``eta**-k`` of the trials at the
    ``k``-th budget from the bottom, ``eta`` times fewer at each level up), with at least
    one trial at the full budget once ``n >= 2`` (taken from the most populated level); the
    full-budget ones come first.

    Example:
        >>> initial_budgets(Fidelity(1, 50), 13)
        [50, 17, 6, 6, 6, 2, 2, 2, 2, 2, 2, 2, 2]
    """
    grid = fidelity.budgets
    eta = fidelity.reduction_factor
    weights = [float(eta) ** (len(grid) - 1 - j) for j in range(len(grid))]
    shares = [n * w / sum(weights) for w in weights]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(grid)), key=lambda j: (counts[j] - shares[j], -j))
    for j in by_remainder[: n - sum(counts)]:
        counts[j] += 1
    if n >= 2 and counts[-1] == 0:
        counts[-1] = 1
        counts[max(range(len(grid) - 1), key=lambda j: counts[j])] -= 1
    return [b for j in reversed(range(len(grid))) for b in [grid[j]] * counts[j]]


# BOHB-style: the GP at one rung ------------------------------------------------------------------
@dataclass(frozen=True)
class RungData:
    """The trials a rung model is fitted on.

    Attributes:
        budget: the rung (``math.inf``: the complete trials, at the full budget).
        trials: the trials with a value at the rung, in id order.
        losses: their values there, in minimisation orientation.
        failed: failed trials, those pruned for a non-finite report, and those the pruner
            stopped below the rung (imputed with the worst value by ``ModelData``, so the
            GP learns that their regions lost, and avoided).
    """

    budget: float
    trials: tuple[Trial, ...]
    losses: tuple[float, ...]
    failed: tuple[Trial, ...]


def _failed(t: Trial) -> bool:
    return t.state is TrialState.FAILED or (t.state is TrialState.PRUNED and t.error is not None)


def value_at(trial: Trial, budget: float) -> float | None:
    """A trial's value at a rung, in the user's orientation, or ``None`` if it has none.

    A complete trial's told value counts at every budget at or beyond its last report (a
    complete trial without reports counts everywhere); below, and for pending or pruned
    trials, the value is the first report at or beyond the rung, as the pruners read it.
    """
    if _failed(trial):
        return None
    last = trial.intermediate[-1][0] if trial.intermediate else -math.inf
    if trial.state is TrialState.COMPLETE and budget >= last:
        return trial.value
    if math.isinf(budget):
        return None
    return next((v for s, v in trial.intermediate if s >= budget), None)


def rung_levels(trials: Sequence[Trial], pruner: Pruner | None) -> tuple[float, ...]:
    """The budgets a rung model may be fitted at, ascending, ending with ``math.inf``
    (the complete trials): the pruner's rungs, or every reported step without them."""
    steps = {s for t in trials for s, _ in t.intermediate}
    top = max(steps, default=0.0)
    rungs = None if pruner is None else pruner.rungs(top)
    levels = set(steps) if rungs is None else {r for r in rungs if r <= top}
    return (*sorted(levels), math.inf)


def choose_rung(
    trials: Sequence[Trial], pruner: Pruner | None, n_min: int, *, maximize: bool = False
) -> RungData | None:
    """The largest budget that at least ``n_min`` trials reached, with their values.

    When no budget has ``n_min`` values, the one with the most (the larger on ties); with
    fewer than 2 values anywhere, ``None``. Trials the pruner stopped below the chosen
    budget count as failures there: without them, the GP would keep proposing the region
    of a configuration that was just stopped.

    Args:
        trials: a study's trials, in id order.
        pruner: the study's pruner (its ``rungs``), or ``None``.
        n_min: the values a rung needs to be chosen (``Optimizer``: ``d + 2``).
        maximize: whether larger values are better.

    Example:
        >>> a = Trial(0, {"x": 0.1}, intermediate=((1, 0.5), (3, 0.2)))
        >>> b = Trial(1, {"x": 0.9}, intermediate=((1, 0.7),))
        >>> choose_rung([a, b], None, n_min=2).budget
        1
    """
    sign = -1.0 if maximize else 1.0
    best: RungData | None = None
    for level in reversed(rung_levels(trials, pruner)):
        pairs = [(t, value_at(t, level)) for t in trials]
        kept = [(t, sign * v) for t, v in pairs if v is not None]
        # Stopped below the rung: it lost against the trials that went on.
        failed = tuple(
            t for t, v in pairs if _failed(t) or (v is None and t.state is TrialState.PRUNED)
        )
        data = RungData(level, tuple(t for t, _ in kept), tuple(v for _, v in kept), failed)
        if len(kept) >= n_min:
            return data
        if len(kept) >= 2 and (best is None or len(kept) > len(best.trials)):
            best = data
    return best


# The multi-fidelity GP ---------------------------------------------------------------------------
def curve_data(
    trials: Sequence[Trial], space: Space, fidelity: Fidelity, *, maximize: bool = False
) -> tuple[Tensor, Tensor, Tensor]:
    """Observations of configurations at budgets, from every trial's reports.

    Each trial contributes its first report at or beyond each budget of
    ``fidelity.budgets`` and its last report; a complete trial also its told value at its
    last reported step (or at its ``budget`` without reports). Failed trials, and those
    pruned for a non-finite report, are returned apart, at their budget.

    Returns:
        ``(X, loss, X_failed)``: ``n x (d + 1)`` inputs (configuration, then
        ``fidelity.to_unit(step)``), ``n`` losses (minimisation orientation) and
        ``f x (d + 1)`` inputs of the failures.
    """
    sign = -1.0 if maximize else 1.0
    rows: list[Tensor] = []
    losses: list[float] = []
    failed: list[Tensor] = []
    for t in trials:
        u = space.to_unit(t.params)
        if _failed(t):
            step = t.intermediate[-1][0] if t.intermediate else (t.budget or fidelity.max_step)
            failed.append(torch.cat([u, u.new_tensor([fidelity.to_unit(step)])]))
            continue
        points: dict[float, float] = {}
        curve = t.intermediate
        for b in fidelity.budgets:
            first = next(((s, v) for s, v in curve if s >= b), None)
            if first is not None:
                points[first[0]] = first[1]
        if curve:
            points[curve[-1][0]] = curve[-1][1]
        if t.state is TrialState.COMPLETE:
            step = curve[-1][0] if curve else (t.budget or fidelity.max_step)
            points[min(max(step, fidelity.min_step), fidelity.max_step)] = t.value
        for step, value in sorted(points.items()):
            rows.append(torch.cat([u, u.new_tensor([fidelity.to_unit(step)])]))
            losses.append(sign * value)
    d = space.dim + 1
    X = torch.stack(rows) if rows else torch.empty(0, d, dtype=DTYPE)
    X_failed = torch.stack(failed) if failed else torch.empty(0, d, dtype=DTYPE)
    return X, torch.tensor(losses, dtype=DTYPE), X_failed


def promotion(model: Model, X_configs: Tensor, X_full: Tensor, X_pending: Tensor) -> Tensor | None:
    """The configuration to train to the full budget next, or ``None``.

    The observed configuration with the best posterior mean at the full budget, if it has
    not been trained there (``X_full``), is not pending, and its mean beats the best mean of
    the configurations that have.

    Args:
        model: a fitted GP over ``d + 1`` inputs.
        X_configs: ``m x d`` observed configurations.
        X_full: ``k x d`` configurations observed at the full budget.
        X_pending: ``p x d`` configurations being evaluated.
    """
    taken = torch.cat([X_full.to(X_configs), X_pending.to(X_configs)])
    if len(taken):
        fresh = torch.cdist(X_configs, taken).min(dim=1).values > 1e-9
    else:
        fresh = torch.ones(len(X_configs), dtype=torch.bool, device=X_configs.device)
    if not bool(fresh.any()):
        return None
    at_full = torch.cat([X_configs, X_full.to(X_configs)])
    at_full = torch.cat([at_full, torch.ones(len(at_full), 1).to(at_full)], dim=1)
    with torch.no_grad():
        mean = model.posterior(at_full).mean.reshape(-1)
    mine, theirs = mean[: len(X_configs)], mean[len(X_configs) :]
    mine = torch.where(fresh, mine, torch.full_like(mine, -math.inf))
    best = int(torch.argmax(mine))
    if len(theirs) and not bool(mine[best] > theirs.max()):
        return None
    return X_configs[best]


def target_acquisition(acqf: AcquisitionFunction, d: int) -> AcquisitionFunction:
    """``acqf`` over ``d + 1`` inputs as a function of the ``d`` configuration coordinates
    at the full budget (the budget column fixed at 1)."""
    return FixedFeatureAcquisitionFunction(acqf, d + 1, columns=[d], values=[1.0])


def _cost_utility(fidelity: Fidelity, d: int) -> InverseCostWeightedUtility:
    """``InverseCostWeightedUtility`` of the cost ``fixed_cost + step`` of column ``d``."""
    from botorch.models.deterministic import GenericDeterministicModel

    def cost(X: Tensor) -> Tensor:
        return (fidelity.fixed_cost + fidelity.from_unit(X[..., d])).unsqueeze(-1)

    return InverseCostWeightedUtility(cost_model=GenericDeterministicModel(cost))


def _project(d: int) -> Callable[[Tensor], Tensor]:
    """Inputs moved to the full budget (column ``d`` set to 1): BoTorch's ``project``."""
    from botorch.acquisition.utils import project_to_target_fidelity

    def project(X: Tensor) -> Tensor:
        return project_to_target_fidelity(X, target_fidelities={d: 1.0}, d=d + 1)

    return project


MES_CANDIDATES = 1000
"""Uniform points over configurations and budgets from which ``mes_acquisition`` samples
the maximum value."""


def mes_acquisition(
    model: Model, fidelity: Fidelity, d: int, seed: int, X_pending: Tensor | None = None
) -> AcquisitionFunction:
    """Multi-fidelity max-value entropy search per unit cost over ``(x, s)``.

    BoTorch's ``qMultiFidelityMaxValueEntropy`` (Takeno et al., 2020): the information an
    observation at ``(x, s)`` gives about the maximum at the full budget, divided by the
    cost ``fidelity.cost`` of budget ``s`` (``InverseCostWeightedUtility``); the maximum's
    samples come from ``MES_CANDIDATES`` uniform points drawn from ``seed``.

    Args:
        model: a fitted GP over ``d + 1`` inputs, the last the budget coordinate.
        fidelity: the costs.
        d: the number of configuration coordinates.
        seed: seeds the candidate points.
        X_pending: ``p x (d + 1)`` points being evaluated, or ``None``.
    """
    from botorch.acquisition.max_value_entropy_search import qMultiFidelityMaxValueEntropy

    gen = torch.Generator().manual_seed(seed)
    on = model.train_inputs[0]
    candidates = torch.rand(MES_CANDIDATES, d + 1, generator=gen, dtype=on.dtype).to(on)
    utility = _cost_utility(fidelity, d)
    project = _project(d)
    return qMultiFidelityMaxValueEntropy(
        model, candidate_set=candidates, cost_aware_utility=utility, project=project,
        X_pending=X_pending,
    )  # fmt: skip


KG_FANTASIES = 32
"""Fantasy observations of ``kg_choice``'s one-shot knowledge gradient."""

KG_RESTARTS = 4
"""Local searches per budget of ``kg_choice`` (from ``KG_RAW_SAMPLES`` raw points)."""

KG_RAW_SAMPLES = 64
"""Raw points scored before ``kg_choice``'s local searches, per budget."""


def kg_choice(
    model: Model, fidelity: Fidelity, d: int, seed: int, X_pending: Tensor | None = None
) -> tuple[Tensor, float]:
    """The configuration and budget maximising the multi-fidelity knowledge gradient per
    unit cost (``Fidelity(acquisition="kg")``).

    BoTorch's ``qMultiFidelityKnowledgeGradient`` (Wu et al., 2019; Poloczek et al.,
    2017): the expected rise of the best posterior mean at the full budget after observing
    ``(x, s)``, over ``KG_FANTASIES`` fantasy observations, divided by the cost of budget
    ``s``. It is one-shot: the configuration and the fantasies' maximisers are optimised
    together, once per budget of ``fidelity.budgets`` (BoTorch's ``optimize_acqf_mixed``,
    ``KG_RESTARTS`` starts from ``KG_RAW_SAMPLES`` raw points); the current value is the
    best posterior mean at the full budget, found the same way. Everything random is
    drawn from ``seed``, the global RNG left as it was.

    Args:
        model: a fitted GP over ``d + 1`` inputs, the last the budget coordinate.
        fidelity: the budgets and their costs.
        d: the number of configuration coordinates.
        seed: seeds the raw samples and the fantasies.
        X_pending: ``p x (d + 1)`` points being evaluated, or ``None``.

    Returns:
        The ``d`` unit-cube configuration and its budget (a step of ``fidelity.budgets``).
    """
    from botorch.acquisition import PosteriorMean
    from botorch.acquisition.knowledge_gradient import qMultiFidelityKnowledgeGradient
    from botorch.exceptions.warnings import OptimizationWarning
    from botorch.optim import optimize_acqf, optimize_acqf_mixed

    on = model.train_inputs[0]
    unit = torch.stack([torch.zeros(d + 1), torch.ones(d + 1)]).to(on)
    units = [float(fidelity.to_unit(b)) for b in fidelity.budgets]
    with seeded_torch(seed), warnings.catch_warnings():
        # BoTorch warns when a local search restarts; the restarts are part of the search.
        warnings.simplefilter("ignore", OptimizationWarning)
        _, current = optimize_acqf(
            target_acquisition(PosteriorMean(model), d),
            unit[:, :d],
            q=1,
            num_restarts=KG_RESTARTS,
            raw_samples=KG_RAW_SAMPLES,
        )
        acqf = qMultiFidelityKnowledgeGradient(
            model,
            num_fantasies=KG_FANTASIES,
            current_value=current.detach(),
            cost_aware_utility=_cost_utility(fidelity, d),
            project=_project(d),
            X_pending=X_pending,
        )
        X, _ = optimize_acqf_mixed(
            acqf, unit, q=1, num_restarts=KG_RESTARTS, raw_samples=KG_RAW_SAMPLES,
            fixed_features_list=[{d: u} for u in units],
        )  # fmt: skip
    x = X.reshape(-1).detach()
    s = float(x[d])
    budget = min(fidelity.budgets, key=lambda b: abs(float(fidelity.to_unit(b)) - s))
    return x[:d].clamp(0.0, 1.0), budget


def choose_budget(
    model: Model, x: Tensor, X_configs: Tensor, fidelity: Fidelity
) -> tuple[float, Tensor]:
    """The budget to train configuration ``x`` to, by ``fidelity.budget_rule``.

    ``"aei"``: the budget ``s`` maximising ``corr(y_s, f_full) * (1 - sigma_n /
    sqrt(var_s + sigma_n**2)) * cost(full) / cost(s)``, the fidelity factors of augmented
    expected improvement (Huang et al., 2006), with ``y_s`` the noisy observation of ``x``
    at ``s`` and ``f_full`` its value at the full budget under the posterior. ``"kg"``:

    for each budget ``s`` of ``fidelity.budgets``, the knowledge gradient of observing
    ``(x, s)`` is the expected rise of the best posterior mean at the full budget over the
    set ``A`` of ``X_configs`` and ``x``: ``E[max_A (mu + sigma_s Z)] - max_A mu``, where
    ``sigma_s`` is the posterior covariance of ``A`` with ``(x, s)`` over the observation's
    standard deviation (a closed-form update), averaged over ``KG_POINTS`` standard-normal
    quantiles ``Z``. The budget maximising it over ``fidelity.cost(s)`` wins; when no
    observation would move the mean (knowledge gradient below 1e-9 everywhere), the full
    budget.

    Args:
        model: a fitted GP over ``d + 1`` inputs (``gp.fidelity.fit_fidelity``).
        x: ``d`` unit-cube configuration.
        X_configs: ``m x d`` configurations that compete with it (the observed ones).
        fidelity: the budget grid and the costs.

    Returns:
        ``(budget, scores)``: the chosen step and the ``len(fidelity.budgets)`` knowledge
        gradients per cost.
    """
    grid = fidelity.budgets
    k = len(grid)
    configs = torch.cat([X_configs.to(x), x.reshape(1, -1)])
    ones = torch.ones(len(configs), 1, dtype=x.dtype, device=x.device)
    A = torch.cat([configs, ones], dim=1)
    s = torch.tensor([fidelity.to_unit(b) for b in grid], dtype=x.dtype, device=x.device)
    Z_in = torch.cat([x.reshape(1, -1).expand(k, -1), s.reshape(-1, 1)], dim=1)
    with torch.no_grad():
        post = model.posterior(torch.cat([A, Z_in]))
        mean = post.mean.reshape(-1)
        cov = post.mvn.covariance_matrix
        noise = float(model.likelihood.noise.reshape(-1)[0])
    m = len(A)
    costs = torch.tensor([fidelity.cost(b) for b in grid], dtype=x.dtype, device=x.device)
    if fidelity.budget_rule == "aei":
        var_full = cov[m - 1, m - 1].clamp_min(1e-12)  # x at the full budget (row m - 1)
        var_s = cov.diagonal()[m:].clamp_min(0.0)
        corr = cov[m - 1, m:] / (var_full * (var_s + noise)).sqrt()
        signal = 1.0 - math.sqrt(noise) / (var_s + noise).sqrt()
        scores = corr.clamp_min(0.0) * signal * costs[-1] / costs
        return grid[int(torch.argmax(scores))], scores.cpu()
    mu = mean[:m]
    cross = cov[:m, m:]  # m x k
    var = cov.diagonal()[m:].clamp_min(0.0) + noise
    sigma = cross / var.sqrt()  # m x k
    q = (torch.arange(KG_POINTS, dtype=x.dtype, device=x.device) + 0.5) / KG_POINTS
    z = torch.special.ndtri(q)  # KG_POINTS
    updated = mu.reshape(m, 1, 1) + sigma.reshape(m, k, 1) * z.reshape(1, 1, -1)
    kg = (updated.max(dim=0).values.mean(dim=-1) - mu.max()).clamp_min(0.0)
    scores = kg / costs
    if float(kg.max()) < 1e-9:
        return grid[-1], scores.cpu()
    return grid[int(torch.argmax(scores))], scores.cpu()
