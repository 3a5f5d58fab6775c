"""Acquisition functions by name: a small registry over BoTorch's implementations.

Every acquisition *maximises*: the surrogate is fitted to standardised negated losses.

=========  ===============================================================================
name       what it is
=========  ===============================================================================
qlognei    ``qLogNoisyExpectedImprovement`` (default): LogEI that integrates over the noisy
           incumbent; handles pending points and batches by Monte-Carlo fantasies.
           For one point with nothing pending on an effectively noiseless model (fitted
           noise variance below ``NOISELESS_FRACTION`` of the output variance) the incumbent
           is known, so it is evaluated in closed form: analytic ``LogExpectedImprovement``
           with ``best_f`` the best posterior mean at the observed points. Same target,
           about a ninth of the cost per search step of the Monte-Carlo version (0.37 ms
           against 3.3 ms for a value and gradient at 13 points, 13 observations, one
           thread; ``benchmarks/scripts/gp_posterior_speed.py``). With more than
           ``MC_BASELINE_LIMIT`` (256) observations the closed form is used whatever the
           noise, since the Monte-Carlo incumbent's cost grows with them. Otherwise
           (a noisy model, or pending points, or a batch) the Monte-Carlo estimator is
           computed from the cached factor with the incumbent's samples drawn once
           (``CachedLogNEI``; BoTorch's class where the cache does not apply): a value
           and gradient cost a fifth to a tenth of BoTorch's.
           ``make(..., closed_form="batches")`` (``ProposeOptions(closed_form=...)``) uses
           ``BelieverLogEI`` for batches and pending points, the Kriging believer;
           ``"always"`` also for a single point on a noisy model.
logei      ``LogExpectedImprovement`` with ``best_f`` the best observation
           (``qLogExpectedImprovement`` when there are pending points or ``q > 1``).
ucb        ``UpperConfidenceBound`` with ``beta = 4`` (two posterior s.d.)
           (``qUpperConfidenceBound`` with pending points or ``q > 1``).
pi         ``LogProbabilityOfImprovement`` (``qProbabilityOfImprovement`` with pending points).
ts         Thompson sampling: one joint posterior sample over a dense candidate set per point,
           maximised there (see ``propose.thompson``).
=========  ===============================================================================

Several outcomes (``make_outcomes``; the model is a ``ModelListGP``, one GP per outcome,
objectives first, then constraints expressed as ``threshold - Z <= 0`` in each constraint
GP's units):

=========  ===============================================================================
qlognei    one objective: ``qLogNoisyExpectedImprovement`` with BoTorch's ``constraints=``
           (the probability of feasibility multiplies the improvement); several:
           the expected hypervolume improvement over one box decomposition of the Pareto
           front of the posterior means at the feasible observations
           (``closed_form="pareto"``, the default of ``ProposeOptions``): in closed form
           for one point (``LogEHVI``), qLogEHVI for batches and pending points; or
           ``qLogNoisyExpectedHypervolumeImprovement`` (qLogNEHVI,
           ``closed_form="never"``); the reference point inferred in the model's units
           from the feasible observations (``reference_from``, see ``infer_reference``;
           ``BOTH_REFERENCES`` for two at once).
parego     several objectives: ``qLogNParEGO``, the noisy LogEI of a random augmented
           Chebyshev scalarisation, its weights drawn from the seed.
(none)     before any observation is feasible: ``qLogProbabilityOfFeasibility``.
=========  ===============================================================================
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from botorch.acquisition import (
    AcquisitionFunction,
    LogExpectedImprovement,
    UpperConfidenceBound,
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qUpperConfidenceBound,
)
from botorch.acquisition.analytic import LogProbabilityOfImprovement
from botorch.models import SingleTaskGP
from botorch.models.model import Model
from botorch.sampling import SobolQMCNormalSampler
from torch import Tensor

from bayesopt import gp
from bayesopt._rng import seeded_torch
from bayesopt.gp import lognei

__all__ = [
    "ACQUISITIONS",
    "CLOSED_FORMS",
    "OUTCOME_ACQUISITIONS",
    "UCB_BETA",
    "BelieverLogEI",
    "CachedLogEI",
    "CachedLogNEI",
    "LogEHVI",
    "check_name",
    "make",
    "make_outcomes",
]

UCB_BETA = 4.0
MC_SAMPLES = 128
CLOSED_FORMS = ("never", "pareto", "batches", "always")
"""Where closed forms replace Monte-Carlo acquisitions (``closed_form`` of ``make`` and
``make_outcomes``), each level including the one before: ``"pareto"``, several objectives
(``LogEHVI`` over the posterior means' Pareto front); ``"batches"``, single-objective batches
and pending points (``BelieverLogEI``); ``"always"``, a single point on a noisy model."""
REFERENCE_SOURCES = ("observations", "front")
"""What an inferred hypervolume reference point is computed from (``infer_reference``)."""
BOTH_REFERENCES = "both"
"""``reference_from`` of ``make_outcomes`` for the closed-form hypervolume improvement
relative to two inferred points at once, the observations' and the front's (see
``_plug_in_ehvi``)."""
NOISELESS_FRACTION = 0.01
MC_BASELINE_LIMIT = 256
"""Above this many observations a single ask with nothing pending uses the closed form even
on a noisy model: qLogNEI's Monte-Carlo incumbent samples the joint posterior of the
observations that may be best, and a value-and-gradient step at 13 points cost 4.0 ms
against 0.59 ms for the closed form at n = 300 and 20.8 ms against 1.8 ms at n = 1,000
(noisy Hartmann-6, one thread; ``benchmarks/scripts/gp_posterior_speed.py --noise 0.3``),
while the posterior mean at that many points is an accurate incumbent. Those timings are
BoTorch's class; ``CachedLogNEI`` costs about what the closed form does (2.0 ms against
1.8 ms at n = 1,000), so cost no longer argues for the limit. It stays until a study of
its regret at that many observations says otherwise."""


class CachedLogEI(AcquisitionFunction):
    """Analytic LogEI on an exact GP, from one cached Cholesky factor.

    The same value as BoTorch's ``LogExpectedImprovement`` on the same ``SingleTaskGP``
    (the tests compare them), computed by ``gp.posterior`` without GPyTorch's prediction
    machinery: the training covariance is factorised once, and each call costs one
    cross-covariance and one triangular solve. At 60 observations a value at 13 points
    took 0.25 ms against BoTorch's 1.2 ms, and a whole acquisition search 0.03 s against
    0.14 s (one thread; ``benchmarks/scripts/gp_posterior_speed.py``).

    Args:
        model: a fitted ``SingleTaskGP`` without an input transform, in eval mode.
        best_f: the incumbent, in the model's (standardised, maximised) units.
    """

    def __init__(self, model: SingleTaskGP, best_f: float) -> None:
        super().__init__(model)
        self.cache = gp.CachedPosterior.from_model(model)
        self.best_f = float(best_f)

    def mean_at_training_points(self) -> Tensor:
        """The posterior mean at the ``n`` training inputs, in ``O(n)``."""
        return self.cache.mean_at_training_points()

    @staticmethod
    def supports(model: Model) -> bool:
        """Whether ``model`` is a single-output exact GP this class can cache."""
        return (
            isinstance(model, SingleTaskGP)
            and getattr(model, "input_transform", None) is None
            and getattr(model, "outcome_transform", None) is None
            and model.num_outputs == 1
        )

    def mean_and_sigma(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and s.d. of the latent function at ``b x d`` points."""
        return self.cache.mean_and_sigma(X)

    def forward(self, X: Tensor) -> Tensor:
        """LogEI at ``b x 1 x d`` points, as a ``b`` tensor."""
        return gp.log_ei(self.cache, X.squeeze(-2), self.best_f)

    @property
    def has_gradient(self) -> bool:
        """Whether ``value_and_gradient`` is available: a ``Stationary`` kernel and a
        constant (or zero) prior mean."""
        return self.cache.has_gradient

    def value_and_gradient(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """LogEI at ``b x d`` points and its gradient in ``X``, in closed form
        (``gp.log_ei_and_gradient``): the same numbers as autograd through ``forward``.

        Returns:
            ``(values, gradients)`` of shapes ``b`` and ``b x d``.

        Raises:
            RuntimeError: the kernel has no closed form (``has_gradient`` is false).
        """
        if not self.has_gradient:
            raise RuntimeError("CachedLogEI.value_and_gradient needs a Stationary kernel")
        return gp.log_ei_and_gradient(self.cache, X, self.best_f)


class BelieverLogEI(AcquisitionFunction):
    """Analytic LogEI with pending points believed (the "Kriging believer").

    Each pending point is added to the training data with the posterior mean as its
    value, the hyperparameters kept, so the posterior mean is unchanged while the variance
    collapses around the pending points; LogEI on that posterior (``CachedLogEI``), with
    the believed values counted in the incumbent, then looks elsewhere.
    ``propose.maximize`` sets each chosen point as pending before the next, so a batch
    costs ``q`` closed-form searches instead of ``q`` Monte-Carlo ones
    (Ginsbourger, Le Riche and Carraro, 2010).

    Args:
        model: a fitted ``SingleTaskGP`` that ``CachedLogEI`` supports.
        X_baseline: ``n x d`` observed inputs; the incumbent is the best posterior mean
            among them.
        X_pending: ``m x d`` points being evaluated, or ``None``.
    """

    def __init__(
        self, model: SingleTaskGP, X_baseline: Tensor, X_pending: Tensor | None = None
    ) -> None:
        super().__init__(model)
        # Plain attributes, not registered submodules: they are rebuilt on every
        # set_X_pending and must not enter the module tree.
        self.__dict__["base"] = CachedLogEI(model, 0.0)
        with torch.no_grad():
            means = self.base.cache.mean_and_sigma(X_baseline)[0]
        self.best_f = float(means.max())
        self.set_X_pending(X_pending)

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        """Believe ``X_pending`` (replacing any points believed before)."""
        self.X_pending = X_pending
        model = self.model
        if X_pending is None or not len(X_pending):
            inner = CachedLogEI(model, self.best_f)
        else:
            with torch.no_grad():
                believed = self.base.cache.mean_and_sigma(X_pending)[0]
            fantasy = copy.deepcopy(model)
            fantasy.set_train_data(
                inputs=torch.cat([model.train_inputs[0], X_pending.to(model.train_inputs[0])]),
                targets=torch.cat([model.train_targets, believed]),
                strict=False,
            )
            # A believed value is data: it raises the incumbent where it is higher, or the
            # next point would be the same one again (LogEI stays positive at a point whose
            # mean beats the incumbent, however small its variance).
            inner = CachedLogEI(fantasy, max(self.best_f, float(believed.max())))
        self.__dict__["inner"] = inner

    def forward(self, X: Tensor) -> Tensor:
        """LogEI at ``b x 1 x d`` points, as a ``b`` tensor."""
        return self.inner(X)

    @property
    def has_gradient(self) -> bool:
        """Whether ``value_and_gradient`` is available (see ``CachedLogEI``)."""
        return self.inner.has_gradient

    def value_and_gradient(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """LogEI at ``b x d`` points and its closed-form gradient."""
        return self.inner.value_and_gradient(X)


class CachedLogNEI(AcquisitionFunction):
    """Monte-Carlo noisy LogEI of one point on an exact GP, from one cached factor.

    The estimator of BoTorch's ``qLogNoisyExpectedImprovement`` for ``q = 1``
    (``MC_SAMPLES`` scrambled Sobol samples, the baseline pruned to the points that may
    be best, the same smoothing, pending points sampled jointly with the baseline as its
    incremental form does), with the incumbent's samples drawn once per set of pending
    points and the candidate's drawn from its conditional (``gp.lognei``). The values
    agree with BoTorch's within Monte-Carlo error (tested). A value and gradient at 13
    points (``value_and_gradient``, closed form) cost 0.69 ms against BoTorch's 3.3 ms by
    autograd after 60 noisy observations of Hartmann-6, 0.88 against 5.2 ms after 300
    (one thread; ``benchmarks/scripts/gp_posterior_speed.py --noise 0.3``).
    ``propose.maximize`` builds a batch greedily through ``set_X_pending``, so batches use
    it too.

    Args:
        model: a fitted ``SingleTaskGP`` that ``CachedLogEI`` supports.
        X_baseline: ``n x d`` observed inputs.
        X_pending: ``m x d`` points being evaluated, or ``None``.
        seed: seeds the base samples.
        samples: the number of Monte-Carlo samples.
    """

    def __init__(
        self,
        model: SingleTaskGP,
        X_baseline: Tensor,
        X_pending: Tensor | None = None,
        *,
        seed: int,
        samples: int = MC_SAMPLES,
    ) -> None:
        super().__init__(model)
        self.post = gp.CachedPosterior.from_model(model)
        with torch.no_grad():
            self.pruned = lognei.prune(self.post, X_baseline, seed=seed)
        self.seed, self.samples = seed, samples
        self.set_X_pending(X_pending)

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        """Sample ``X_pending`` jointly with the baseline (replacing any set before)."""
        self.X_pending = X_pending if X_pending is not None and len(X_pending) else None
        B = self.pruned if self.X_pending is None else torch.cat([self.pruned, self.X_pending])
        self.incumbent = lognei.NoisyIncumbent.draw(
            self.post, B, samples=self.samples, seed=self.seed
        )

    @property
    def X_baseline(self) -> Tensor:
        """The incumbent's points: the pruned observed points, then the pending ones."""
        return self.incumbent.B

    def forward(self, X: Tensor) -> Tensor:
        """Noisy LogEI at ``b x 1 x d`` points, as a ``b`` tensor."""
        return lognei.log_nei(self.incumbent, X.squeeze(-2))

    @property
    def has_gradient(self) -> bool:
        """Whether ``value_and_gradient`` is available (see ``CachedLogEI``)."""
        return self.incumbent.post.has_gradient

    def value_and_gradient(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Noisy LogEI at ``b x d`` points and its gradient in ``X``, in closed form
        (``gp.lognei.log_nei_and_gradient``): the same numbers as autograd through
        ``forward``.

        Raises:
            RuntimeError: the kernel has no closed form (``has_gradient`` is false).
        """
        if not self.has_gradient:
            raise RuntimeError("CachedLogNEI.value_and_gradient needs a Stationary kernel")
        return lognei.log_nei_and_gradient(self.incumbent, X)


def _analytic_logei(model: Model, best_f: float) -> AcquisitionFunction:
    if CachedLogEI.supports(model):
        return CachedLogEI(model, best_f)
    return LogExpectedImprovement(model, best_f=best_f)


@dataclass(frozen=True)
class _Context:
    model: Model
    X_baseline: Tensor  # n x d observed inputs
    best_f: float  # best standardised observation
    X_pending: Tensor | None  # m x d
    batch: bool  # q > 1 or pending points: needs an MC acquisition
    seed: int
    noise_fraction: float | None  # fitted noise variance / output variance, if known

    def sampler(self) -> SobolQMCNormalSampler:
        return SobolQMCNormalSampler(torch.Size([MC_SAMPLES]), seed=self.seed)


def _closed_form_incumbent(noise_fraction: float | None, n: int) -> bool:
    """Whether one point's LogEI may take the best posterior mean as its incumbent: an
    effectively noiseless model, or more than ``MC_BASELINE_LIMIT`` observations."""
    noiseless = noise_fraction is not None and noise_fraction < NOISELESS_FRACTION
    return noiseless or n > MC_BASELINE_LIMIT


def _qlognei(c: _Context) -> AcquisitionFunction:
    if not c.batch and _closed_form_incumbent(c.noise_fraction, len(c.X_baseline)):
        if CachedLogEI.supports(c.model):
            cached = CachedLogEI(c.model, 0.0)
            with torch.no_grad():
                if c.X_baseline is c.model.train_inputs[0] or torch.equal(
                    c.X_baseline, c.model.train_inputs[0]
                ):
                    means = cached.mean_at_training_points()
                else:
                    means = cached.mean_and_sigma(c.X_baseline)[0]
                cached.best_f = float(means.max())
            return cached
        with torch.no_grad():
            incumbent = float(c.model.posterior(c.X_baseline).mean.max())
        return LogExpectedImprovement(c.model, best_f=incumbent)
    if CachedLogEI.supports(c.model):
        return CachedLogNEI(c.model, c.X_baseline, c.X_pending, seed=c.seed)
    return qLogNoisyExpectedImprovement(
        c.model,
        X_baseline=c.X_baseline,
        sampler=c.sampler(),
        X_pending=c.X_pending,
        prune_baseline=True,
    )


def _logei(c: _Context) -> AcquisitionFunction:
    if c.batch:
        return qLogExpectedImprovement(
            c.model, best_f=c.best_f, sampler=c.sampler(), X_pending=c.X_pending
        )
    return _analytic_logei(c.model, c.best_f)


def _ucb(c: _Context) -> AcquisitionFunction:
    if c.batch:
        return qUpperConfidenceBound(
            c.model, beta=UCB_BETA, sampler=c.sampler(), X_pending=c.X_pending
        )
    return UpperConfidenceBound(c.model, beta=UCB_BETA)


def _pi(c: _Context) -> AcquisitionFunction:
    if c.batch:
        return qProbabilityOfImprovement(
            c.model, best_f=c.best_f, sampler=c.sampler(), X_pending=c.X_pending
        )
    return LogProbabilityOfImprovement(c.model, best_f=c.best_f)


ACQUISITIONS: dict[str, Callable[[_Context], AcquisitionFunction] | None] = {
    "qlognei": _qlognei,
    "logei": _logei,
    "ucb": _ucb,
    "pi": _pi,
    "ts": None,  # not an acquisition function to optimise: see propose.thompson
}


def check_name(name: object) -> str:
    """Return ``name`` if it is a known acquisition, else raise.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is unknown; the message lists the known names.
    """
    if not isinstance(name, str):
        raise TypeError(f"`acquisition` must be a str, but got {name!r}.")
    if name not in ACQUISITIONS:
        raise ValueError(
            f"unknown acquisition {name!r}; known acquisitions are {sorted(ACQUISITIONS)}."
        )
    return name


def make(
    name: str,
    model: Model,
    *,
    X_baseline: Tensor,
    best_f: float,
    X_pending: Tensor | None = None,
    q: int = 1,
    seed: int = 0,
    noise_fraction: float | None = None,
    closed_form: str = "never",
) -> AcquisitionFunction:
    """Build the acquisition ``name`` on a fitted model.

    Args:
        name: one of ``ACQUISITIONS`` except ``"ts"``.
        model: a fitted single-output BoTorch model (maximisation).
        X_baseline: ``n x d`` observed inputs.
        best_f: the best (largest) standardised observation.
        X_pending: ``m x d`` points being evaluated, or ``None``.
        q: number of points that will be proposed jointly.
        seed: seed of the quasi-Monte-Carlo sampler.
        noise_fraction: the model's fitted noise variance over the output variance; lets
            ``qlognei`` use its closed form on noiseless models (see the table above).
        closed_form: one of ``CLOSED_FORMS``: for ``qlognei`` on a model ``CachedLogEI``
            supports, ``"batches"`` builds ``BelieverLogEI`` (closed-form LogEI against the
            best posterior mean, pending and already chosen points believed at the
            posterior mean) for batches and asks with pending points, ``"always"`` for a
            single point on a noisy model too; ``"never"`` and ``"pareto"`` not at all.

    Returns:
        A BoTorch acquisition function; an MC one when ``q > 1`` or points are pending
        (unless ``closed_form`` applies).
    """
    if closed_form not in CLOSED_FORMS:
        raise ValueError(f"`closed_form` must be one of {CLOSED_FORMS}, but got {closed_form!r}.")
    factory = ACQUISITIONS[check_name(name)]
    if factory is None:
        raise ValueError(f"acquisition {name!r} is not built by make(); use propose.thompson.")
    pending = X_pending if X_pending is not None and len(X_pending) else None
    several = q > 1 or pending is not None
    believe = closed_form == "always" or (closed_form == "batches" and several)
    if believe and name == "qlognei" and CachedLogEI.supports(model):
        return BelieverLogEI(model, X_baseline, pending)
    ctx = _Context(model, X_baseline, best_f, pending, several, seed, noise_fraction)
    with seeded_torch(seed):
        return factory(ctx)


OUTCOME_ACQUISITIONS = ("qlognei", "parego")
"""The acquisitions of a study with declared outcomes (``parego``: several objectives)."""
CONSTRAINT_MARGIN = 2e-4
"""The acquisitions count a declared constraint as met only this far inside its bound (in
the constraint GP's units: 2e-4 s.d. of its transformed observed values;
``ProposeOptions.constraint_margin``). The optimum of a constrained problem usually lies on
an active constraint. Without a margin many asks there land a hair on the infeasible side;
with too wide a one every ask stops short of the bound. On Branin with ``x1 + x2 <= 4``
(30 trials, seeds 0-2; ``python -m benchmarks.scripts.constraint_margin_branin``) a margin
of 0 leaves 8-11 of 25 model asks infeasible, 2e-4 1-2 with a regret of the best feasible
value of 0.002, and the previous default, 0.002, 2-4 with a regret of 0.019-0.021 (with
constraint values only standardised, as when the margin was chosen, ``--constraint-warp
none``: 8-11, none and none, regrets 0.002-0.0025 and 0.020-0.026). On the
problems with constraints (tuning seeds) 2e-4 and 0 each beat 0.002 on the speed reducer
and the pressure vessel after Holm's correction and lost none
(``benchmarks/results/ablation/constraint_margin``)."""
SUCCESS_MARGIN = 0.002
"""The margin of the failure classifier's success constraint (``failure_model="classifier"``,
a GP on 0/1 outcomes with its threshold at 0.5): the one it was measured with
(``benchmarks/results/failures``); the declared constraints' study does not cover it."""


def _first_output(Z: Tensor, X: Tensor | None = None) -> Tensor:
    return Z[..., 0]


class _OnList(AcquisitionFunction):
    """An acquisition on a model list, presented with its first GP as ``model`` so that
    code reading ``acqf.model.train_inputs`` (the device, in ``propose``) sees one
    model's tensors; values and pending points go to ``inner``."""

    def __init__(self, inner: AcquisitionFunction, first: Model) -> None:
        super().__init__(first)
        self.inner = inner

    def forward(self, X: Tensor) -> Tensor:
        return self.inner(X)

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        self.inner.set_X_pending(X_pending)


class _Slack:
    """The constraint callable ``threshold - Z[..., index]``: feasible where ``<= 0``."""

    def __init__(self, index: int, threshold: float) -> None:
        self.index, self.threshold = index, threshold

    def __call__(self, Z: Tensor) -> Tensor:
        return self.threshold - Z[..., self.index]


def make_outcomes(
    name: str,
    model: Model,
    *,
    n_objectives: int,
    thresholds: Tensor,
    X_baseline: Tensor,
    Y_baseline: Tensor,
    feasible: Tensor,
    X_pending: Tensor | None = None,
    seed: int = 0,
    closed_form: str = "never",
    reference: Tensor | None = None,
    reference_from: str = "observations",
    margin: float = CONSTRAINT_MARGIN,
) -> AcquisitionFunction:
    """The acquisition of a study with several outcomes (see the second table above).

    Args:
        name: one of ``OUTCOME_ACQUISITIONS``.
        model: a fitted ``m + c``-output model (e.g. a ``ModelListGP``): ``m`` objectives
            to maximise, then ``c`` constraints.
        n_objectives: ``m``.
        thresholds: ``c`` model-unit thresholds: constraint ``j`` holds where output
            ``m + j`` is at least ``thresholds[j]`` (the acquisition asks for ``margin``
            more).
        X_baseline: ``n x d`` observed inputs.
        Y_baseline: ``n x (m + c)`` observed outputs in the model's units.
        feasible: ``n`` booleans, the observations that satisfied every constraint.
        X_pending: ``p x d`` points being evaluated, or ``None``.
        seed: seeds the quasi-Monte-Carlo sampler and ParEGO's weights.
        closed_form: one of ``CLOSED_FORMS``; any but ``"never"``: with several
            objectives and ``"qlognei"``, ``LogEHVI`` (qLogEHVI for batches and pending
            points) over one box decomposition of the feasible Pareto front of the
            posterior means at the observations, instead of qLogNEHVI's decomposition per
            sample of the noisy front.
        reference: the hypervolume's reference point as ``m`` model-unit gains; ``None``
            to infer it from the feasible observations (``infer_reference``). ParEGO has
            none.
        reference_from: one of ``REFERENCE_SOURCES``: what ``infer_reference`` uses when
            ``reference`` is ``None``; or ``BOTH_REFERENCES``: with the closed form, the sum
            of the expected hypervolume improvements relative to both points, each divided
            by the hypervolume the posterior means already hold relative to it (so that
            the far point's larger volumes do not drown the near one's); elsewhere the
            observations' point.
        margin: how far inside its threshold, in the model's units, a constraint counts
            as met (``CONSTRAINT_MARGIN`` by default).

    Returns:
        An MC acquisition function (it accepts pending points, so batches are diverse);
        on a model list, wrapped so that its ``model`` is the first GP and ``inner`` is
        BoTorch's acquisition.

    Example:
        >>> import torch
        >>> from botorch.models import ModelListGP
        >>> from bayesopt import gp
        >>> X = torch.rand(8, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> Y = torch.stack([gp.standardize(-X.sum(1)), gp.standardize(X.sum(1))], 1)
        >>> model = ModelListGP(*(gp.fit(X, Y[:, j], seed=0) for j in range(2)))
        >>> acqf = make_outcomes("qlognei", model, n_objectives=2,
        ...     thresholds=torch.empty(0), X_baseline=X, Y_baseline=Y,
        ...     feasible=torch.ones(8, dtype=torch.bool))
        >>> type(acqf.inner).__name__, acqf(X[:3, None]).shape
        ('qLogNoisyExpectedHypervolumeImprovement', torch.Size([3]))
    """
    models = getattr(model, "models", None)
    first = models[0] if models else model
    inner = _make_outcomes(
        name, model, n_objectives, thresholds, X_baseline, Y_baseline, feasible, X_pending, seed,
        closed_form, reference, reference_from, margin,
    )  # fmt: skip
    return inner if first is model else _OnList(inner, first)


def infer_reference(gains: Tensor, source: str = "observations") -> Tensor:
    """A hypervolume reference point for ``n x m`` observed gains (maximisation).

    BoTorch's ``infer_reference_point``: the nadir minus 10 % of the range, per objective.
    ``source="observations"`` takes the nadir and the range over every row;
    ``source="front"`` over the non-dominated rows only (when at least two are), as
    BoTorch's own docs apply it, so the point hugs the front instead of sitting beyond
    the worst observation.

    Example:
        >>> gains = torch.tensor([[0.0, 1.0], [1.0, 0.0], [-4.0, -4.0]], dtype=torch.float64)
        >>> infer_reference(gains).tolist(), infer_reference(gains, "front").tolist()
        ([-4.5, -4.5], [-0.1, -0.1])
    """
    from botorch.utils.multi_objective.hypervolume import infer_reference_point

    from bayesopt.outcomes import pareto_mask

    if source not in REFERENCE_SOURCES:
        raise ValueError(
            f"`reference_from` must be one of {REFERENCE_SOURCES}, but got {source!r}."
        )
    if source == "front":
        front = gains[pareto_mask(gains)]
        if len(front) >= 2:
            gains = front
    return infer_reference_point(gains)


class LogEHVI(AcquisitionFunction):
    """Analytic log expected hypervolume improvement of one point, with the probability of
    feasibility, on independent GPs; Monte-Carlo qLogEHVI for batches and pending points.

    The non-dominated region above the reference point is split into boxes
    ``[l_k, u_k]`` (BoTorch's box decomposition of a fixed front). A point with outcomes
    ``y`` adds ``sum_k prod_j (min(y_j, u_kj) - l_kj)_+`` of hypervolume, and with one GP
    per objective the expectation factorises per box and objective:
    ``E[(min(y, u) - l)_+] = sigma (h((mu - l) / sigma) - h((mu - u) / sigma))`` with
    ``h(z) = phi(z) + z Phi(z)`` (Yang et al., 2019). It is computed in log space
    (``log h`` by BoTorch's ``_log_ei_helper``), so that it keeps a gradient where the
    improvement is vanishingly small, as qLogEHVI does (Ament et al., 2023), and each
    constraint ``Z_c >= t_c`` adds ``log Phi((mu_c - t_c) / sigma_c)``. The Monte-Carlo
    estimator ``fallback`` targets the same quantity with 128 quasi-random samples; this
    one is exact and costs no samples.

    Args:
        models: the ``m + c`` single-output GPs: objectives (maximised), then constraints.
        m: the number of objectives.
        cells: the boxes' ``k x m`` lower and upper corners, e.g. a box decomposition's
            ``get_hypercell_bounds()``; with one objective the one box above the
            incumbent, ``([[best_f]], [[inf]])``, which makes this LogEI.
        thresholds: ``c`` thresholds: constraint ``j`` holds where output ``m + j`` is at
            least ``thresholds[j]``.
        fallback: the Monte-Carlo acquisition used when ``X`` holds more than one point
            per batch or points are pending.
        ref_point: the hypervolume's reference point the cells were built from (kept for
            inspection), or ``None``.
    """

    def __init__(
        self,
        models: list[Model],
        m: int,
        cells: tuple[Tensor, Tensor],
        thresholds: Tensor,
        fallback: AcquisitionFunction,
        ref_point: Tensor | None = None,
        log_weights: Tensor | None = None,
    ) -> None:
        super().__init__(models[0])
        self.ref_point = ref_point
        self.m = m
        self.fallback = fallback
        self.thresholds = thresholds
        self.posteriors = [
            gp.CachedPosterior.from_model(g) if CachedLogEI.supports(g) else g for g in models
        ]
        lower, upper = cells
        keep = (upper > lower).all(-1)  # boxes of zero width add nothing
        self.lower, self.upper = lower[keep], upper[keep].clamp_max(1e10)
        self.log_weights = None if log_weights is None else log_weights[keep]
        self.pending = False

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        self.pending = X_pending is not None and len(X_pending) > 0
        self.fallback.set_X_pending(X_pending)

    def moments(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior means and s.d. of the ``m + c`` outputs at ``b x d`` points, as two
        ``b x (m + c)`` tensors."""
        means, sigmas = [], []
        for post in self.posteriors:
            if isinstance(post, gp.CachedPosterior):
                mean, sigma = post.mean_and_sigma(X)
            else:
                out = post.posterior(X[:, None])
                mean, sigma = out.mean.reshape(-1), out.variance.clamp_min(1e-12).sqrt().reshape(-1)
            means.append(mean)
            sigmas.append(sigma)
        return torch.stack(means, -1), torch.stack(sigmas, -1)

    def forward(self, X: Tensor) -> Tensor:
        """The acquisition at ``b x q x d`` points, as a ``b`` tensor."""
        if self.pending or X.shape[-2] != 1:
            return self.fallback(X)
        from botorch.acquisition.analytic import _log_ei_helper
        from botorch.utils.safe_math import log1mexp

        mean, sigma = self.moments(X.squeeze(-2))
        mu, sd = mean[:, None, : self.m], sigma[:, None, : self.m]
        log_h_lower = _log_ei_helper((mu - self.lower) / sd)
        log_h_upper = _log_ei_helper((mu - self.upper) / sd)
        per_axis = sd.log() + log_h_lower + log1mexp(log_h_upper - log_h_lower)
        per_box = per_axis.sum(-1)
        if self.log_weights is not None:
            per_box = per_box + self.log_weights
        value = torch.logsumexp(per_box, dim=-1)
        if len(self.thresholds):
            z = (mean[:, self.m :] - self.thresholds) / sigma[:, self.m :]
            value = value + torch.special.log_ndtr(z).sum(-1)
        return value


def _plug_in_ehvi(
    model: Model,
    m: int,
    refs: list[Tensor],
    X_baseline: Tensor,
    feasible: Tensor,
    sampler: SobolQMCNormalSampler,
    objective: object,
    constraints: list,
    pending: Tensor | None,
) -> AcquisitionFunction:
    """The expected hypervolume improvement over the feasible Pareto front of the
    posterior means at the observations (one box decomposition, as for a noiseless
    study): ``LogEHVI`` on a model list, Monte-Carlo qLogEHVI otherwise and when points
    are pending (the closed form would never be called).

    With several reference points ``refs`` the closed form is the sum over them of the
    improvement relative to each, divided by the hypervolume the posterior means' front
    holds relative to it: the boxes of every decomposition at once, each weighted by its
    point's inverse hypervolume (a point whose hypervolume is still zero is left out).
    The Monte-Carlo fallback uses the first point."""
    from botorch.acquisition.multi_objective.logei import qLogExpectedHypervolumeImprovement
    from botorch.utils.multi_objective.box_decompositions.non_dominated import (
        FastNondominatedPartitioning,
    )

    with torch.no_grad():
        means = model.posterior(X_baseline[feasible]).mean[..., :m]
    parts = [FastNondominatedPartitioning(ref_point=r.to(means), Y=means) for r in refs]
    mc = qLogExpectedHypervolumeImprovement(
        model,
        ref_point=refs[0].tolist(),
        partitioning=parts[0],
        sampler=sampler,
        objective=objective,
        constraints=constraints or None,
        X_pending=pending,
    )
    models = getattr(model, "models", None)
    if pending is not None or models is None or any(g.num_outputs != 1 for g in models):
        return mc
    thresholds = torch.tensor([c.threshold for c in constraints]).to(means)
    weighted = []  # with several points: each decomposition that holds volume, and it
    if len(parts) > 1:
        volumes = [float(part.compute_hypervolume()) for part in parts]
        weighted = [(part, v) for part, v in zip(parts, volumes, strict=True) if v > 0.0]
    if not weighted:  # one point, or no volume relative to any yet: the first point's
        lower, upper = parts[0].get_hypercell_bounds()
        return LogEHVI(list(models), m, (lower, upper), thresholds, mc, parts[0].ref_point)
    bounds = [part.get_hypercell_bounds() for part, _ in weighted]
    cells = (torch.cat([lo for lo, _ in bounds]), torch.cat([up for _, up in bounds]))
    log_weights = torch.cat(
        [
            torch.full(lo.shape[:-1], -math.log(v)).to(lo)
            for (lo, _), (_, v) in zip(bounds, weighted, strict=True)
        ]
    )
    return LogEHVI(list(models), m, cells, thresholds, mc, parts[0].ref_point, log_weights)


def _plug_in_logei(
    model: Model, X_baseline: Tensor, feasible: Tensor, constraints: list, mc: AcquisitionFunction
) -> AcquisitionFunction:
    """LogEI times the probability of feasibility for one point, the incumbent the best
    posterior mean at the feasible observations (``LogEHVI`` with one box); ``mc`` on
    anything but a list of single-output GPs, and for batches and pending points."""
    models = getattr(model, "models", None)
    if models is None or any(g.num_outputs != 1 for g in models):
        return mc
    with torch.no_grad():
        best = models[0].posterior(X_baseline[feasible]).mean.max()
    lower = best.reshape(1, 1).to(X_baseline)
    thresholds = torch.tensor([c.threshold for c in constraints]).to(X_baseline)
    return LogEHVI(list(models), 1, (lower, torch.full_like(lower, math.inf)), thresholds, mc)


def _make_outcomes(
    name: str,
    model: Model,
    n_objectives: int,
    thresholds: Tensor,
    X_baseline: Tensor,
    Y_baseline: Tensor,
    feasible: Tensor,
    X_pending: Tensor | None,
    seed: int,
    closed_form: str = "never",
    reference: Tensor | None = None,
    reference_from: str = "observations",
    margin: float = CONSTRAINT_MARGIN,
) -> AcquisitionFunction:
    from botorch.acquisition.logei import qLogProbabilityOfFeasibility
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
    from botorch.acquisition.multi_objective.parego import qLogNParEGO
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.utils.sampling import sample_simplex

    if name not in OUTCOME_ACQUISITIONS:
        raise ValueError(
            f"with declared outcomes `acquisition` must be one of {OUTCOME_ACQUISITIONS}, "
            f"but got {name!r}."
        )
    if closed_form not in CLOSED_FORMS:
        raise ValueError(f"`closed_form` must be one of {CLOSED_FORMS}, but got {closed_form!r}.")
    m = n_objectives
    constraints = [_Slack(m + j, float(t) + margin) for j, t in enumerate(thresholds.tolist())]
    pending = X_pending if X_pending is not None and len(X_pending) else None
    sampler = SobolQMCNormalSampler(torch.Size([MC_SAMPLES]), seed=seed)
    with seeded_torch(seed):
        if constraints and not bool(feasible.any()):
            return qLogProbabilityOfFeasibility(
                model, constraints, sampler=sampler,
                objective=GenericMCObjective(_first_output), X_pending=pending,
            )  # fmt: skip
        if m == 1:
            mc = qLogNoisyExpectedImprovement(
                model,
                X_baseline=X_baseline,
                sampler=sampler,
                objective=GenericMCObjective(_first_output),
                constraints=constraints or None,
                X_pending=pending,
                prune_baseline=True,
            )
            first = getattr(model, "models", [model])[0]
            closed = closed_form == "always" or _closed_form_incumbent(
                gp.noise_fraction(first), len(X_baseline)
            )
            if not closed or pending is not None:
                return mc
            return _plug_in_logei(model, X_baseline, feasible, constraints, mc)
        objective = IdentityMCMultiOutputObjective(outcomes=list(range(m)))
        if name == "parego":
            weights = sample_simplex(m, seed=seed, dtype=X_baseline.dtype).reshape(-1)
            return qLogNParEGO(
                model,
                X_baseline=X_baseline,
                scalarization_weights=weights.to(X_baseline),
                sampler=sampler,
                objective=objective,
                constraints=constraints or None,
                X_pending=pending,
                prune_baseline=True,
            )
        gains = Y_baseline[feasible][:, :m]
        if reference is not None:
            refs = [reference.to(Y_baseline)]
        elif reference_from == BOTH_REFERENCES:
            refs = [infer_reference(gains, source) for source in REFERENCE_SOURCES]
        else:
            refs = [infer_reference(gains, reference_from)]
        ref = refs[0]
        if closed_form != "never":
            return _plug_in_ehvi(
                model, m, refs, X_baseline, feasible, sampler, objective, constraints, pending
            )
        return qLogNoisyExpectedHypervolumeImprovement(
            model,
            ref_point=ref.tolist(),
            X_baseline=X_baseline,
            sampler=sampler,
            objective=objective,
            constraints=constraints or None,
            X_pending=pending,
            prune_baseline=True,
        )
