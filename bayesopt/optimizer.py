"""GP-based Bayesian optimisation behind the ask/tell interface (orchestration only).

One ask, step by step:

1. While fewer than ``n_initial`` trials exist (or fewer than two are complete and none
   failed, e.g. a large first batch), return points of a scrambled Sobol sequence seeded by
   ``seed`` (in a finite space, skipping points that were already asked).
2. Otherwise fit the GP (``gp.fit``) on ``model_data()``: the complete trials, in the unit
   cube, with transformed negated losses. **Failed trials are imputed with the worst value
   observed so far**, so the model learns that their region is bad and the optimiser steers
   away. With a pruner, the values are those at the largest rung that ``d + 2`` trials
   reached, pruned trials included (BOHB-style; ``bayesopt.multifidelity``); with
   ``Fidelity(model="gp")``, the GP is fitted over configurations and budgets on every
   report (``fidelity_data()``), and each new trial also gets the budget to train to.
3. Build the acquisition (``acquisition.make``) with the pending trials as pending points.
4. Maximise it over the mixed domain (``propose.maximize``), never returning a point that is
   pending or, unless the GP has found the objective noisy, one already evaluated.
5. Decode the unit points into params.

With declared outcomes (``objectives=``, ``constraints=``; see ``bayesopt.outcomes``) step
2 fits one GP per outcome on ``outcome_data()`` (a BoTorch ``ModelListGP``), and step 3
builds constrained LogEI (one objective), the expected hypervolume improvement
(``acquisition.LogEHVI``) or qLogNParEGO (several), or the
probability of feasibility while no trial is feasible (``acquisition.make_outcomes``).
Such studies search globally: no trust region.

If the GP cannot be used (fewer than two complete trials, a failed fit, a numerical error),
the ask falls back to a space-filling Sobol point, far from every asked point, and emits one
``FallbackWarning``.
"""

from __future__ import annotations

import enum
import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.fixed_feature import FixedFeatureAcquisitionFunction
from botorch.exceptions.errors import ModelFittingError
from botorch.exceptions.warnings import BotorchWarning
from linear_operator.utils.errors import NotPSDError
from linear_operator.utils.warnings import NumericalWarning
from torch import Tensor

from bayesopt import acquisition, gp, propose
from bayesopt import multifidelity as mf
from bayesopt import trust_region as trust_region_module
from bayesopt._device import resolve_device
from bayesopt._rng import derive_seed, seeded_torch
from bayesopt._threads import Threads, check_threads, limited_threads, threads_for
from bayesopt.asktell import AskTell
from bayesopt.model_data import ModelData, OutcomeData
from bayesopt.proposal import Request
from bayesopt.pruners import Pruner
from bayesopt.space import DTYPE, Space
from bayesopt.trial import Source, Trial, TrialState

__all__ = ["FallbackReason", "FallbackWarning", "Optimizer", "default_n_initial"]

NOISY_FRACTION = 0.05
NOISY_MIN_TRIALS = 10
"""The objective counts as noisy, and re-evaluating an observed point is allowed, once at
least ``NOISY_MIN_TRIALS`` trials are complete and the fitted noise variance exceeds
``NOISY_FRACTION`` of the output variance. With fewer trials the GP cannot tell noise from
signal, so observed points are never proposed again while others remain."""

INITIAL_DESIGNS = ("sobol", "random")
FAILURE_MODELS = ("impute", "classifier")
FINITE_DEDUP_LIMIT = 100_000
"""In finite spaces with at most this many points the initial design skips repeats."""
_RANDOM_KEY = 0xB0B
"""Seeds the random asks of ``Fidelity(model="rungs")`` apart from everything else."""
_THOMPSON_KEY = 0x75
"""Seeds the draw of ``ProposeOptions.thompson_share`` apart from everything else."""
_PORTFOLIO_KEY = 0xA4
"""Seeds the arm draws of ``ProposeOptions.portfolio`` apart from everything else."""
_RECOMMEND_KEY = 0x7EC0
"""Seeds ``recommend``'s fit apart from the asks' (see ``derive_seed``)."""
SPACE_FILLING_GREEDY = 1024
"""Points of one ask picked by greedy max-min distance; more follow the Sobol sequence."""


class FallbackReason(enum.Enum):
    """Why an ask could not use the GP."""

    TOO_FEW_COMPLETE = "too_few_complete"
    """Fewer than two complete trials (failed ones are imputed once one is complete)."""
    NOT_PSD = "not_psd"
    """A kernel matrix could not be factorised, even with jitter."""
    FIT_FAILED = "fit_failed"
    """BoTorch's fitting routine gave up (``ModelFittingError``)."""
    NON_FINITE = "non_finite"
    """Non-finite training data, hyperparameters or proposed points."""


class FallbackWarning(UserWarning):
    """The GP could not be used for an ask; a space-filling point was proposed instead.

    Attributes:
        reason: why, as a ``FallbackReason``.
    """

    def __init__(self, message: str, reason: FallbackReason) -> None:
        super().__init__(message)
        self.reason = FallbackReason(reason)


def default_n_initial(space: Space) -> int:
    """Size of the Sobol initial design: ``2 d + 1``, at least 5 and at most 20.

    ``d`` is the most parameters active at once (``Space.active_dim``: the number of
    parameters in a space without conditions). In a finite space it is capped at half the
    number of points (at least 1).
    """
    n = min(max(2 * space.active_dim + 1, 5), 20)
    if space.n_points is not None:
        n = min(n, max(1, space.n_points // 2))
    return n


class Optimizer(AskTell):
    """Bayesian optimisation with a Gaussian-process surrogate, driven by ask and tell.

    Args:
        space: the search space.
        seed: seeds every random choice; the same seed and the same tells give the same
            asks. ``None`` draws a seed from OS entropy.
        maximize: maximise the objective instead of minimising it.
        acquisition: one of ``"qlognei"`` (default), ``"logei"``, ``"ucb"``, ``"pi"``,
            ``"ts"``; see ``bayesopt.acquisition``.
        n_initial: size of the initial design; ``None`` for ``default_n_initial``.
        initial_design: ``"sobol"`` (scrambled Sobol, the default) or ``"random"``
            (independent uniform draws).
        model_options: settings of the GP surrogate (``bayesopt.ModelOptions``).
        propose_options: settings of the acquisition optimiser.
        device: where the GP and the acquisition run: ``"cpu"`` (default), ``"cuda"``,
            ``"cuda:<i>"`` or ``"auto"`` (a GPU when one is present). Data are kept in
            float64 on that device; proposals and trials stay on the CPU.
        storage: a journal file: every ask and tell is appended and fsynced before the call
            returns, and an existing journal is resumed (same space and settings; see
            ``bayesopt.journal``).
        trust_region: ``"auto"`` (default) searches the acquisition inside a TuRBO-style
            trust region around the best point when the space has at least
            ``trust_region.MIN_DIMS`` (10) non-categorical coordinates, and globally
            otherwise; ``"always"`` and ``"never"`` force either; ``"stagnation"`` is
            ``"auto"``, but below 10 dimensions it opens a region once ``max(4, d)``
            model (or fallback) trials in a row have not improved the best by more than
            1e-3 of its size, and searches globally again when the region collapses,
            until the next stagnation (see ``bayesopt.trust_region``). Thompson sampling
            always searches globally.
        threads: the thread limit of the GP fit and the acquisition search, restored after
            every ask. ``"auto"`` (default) runs asks on fewer than
            ``bayesopt._threads.LARGE_N`` (10,000) observations on one thread, which is
            fastest for small GPs and does not stall when other processes keep the cores
            busy, and larger ones with the caller's thread count; an int fixes the limit;
            ``None`` leaves torch's and BLAS's threads alone. Torch's thread count is
            process-wide, so other threads of the process see the limit during an ask.
        pruner: stops trials early from their intermediate reports (``report``,
            ``should_stop``; see ``bayesopt.pruners``). With a pruner the GP is fitted
            BOHB-style, at the largest rung (budget) that at least ``d + 2`` trials
            reached, pruned ones included (``bayesopt.multifidelity``); without one, on
            the complete and failed trials.
        fidelity: the budget range of a multi-fidelity study
            (``bayesopt.multifidelity.Fidelity``): reports must lie in it, and each ask
            sets ``trial.budget``, the step to train to. ``model="gp"`` (default) fits a
            GP over configurations and budgets and picks each trial's budget by the
            knowledge gradient per unit cost; ``should_stop`` stops a trial at its
            budget. ``model="rungs"`` runs the BOHB-style model with ``pruner``
            (``Hyperband`` over the range when none is given).
        objectives: ``{name: "min" | "max"}``: several objectives (or one, named). The
            study is then told ``tell(trial, {name: value, ...})`` with every objective
            and constraint; ``trial.values`` holds them, ``trial.value`` is ``None`` with
            several objectives, ``pareto_front()`` and ``hypervolume()`` read the result,
            and ``best`` raises. Asks maximise the expected hypervolume improvement over
            the posterior means' Pareto front, in closed form for one point and by
            qLogEHVI for batches (``acquisition="qlognei"``, the default; qLogNEHVI with
            ``ProposeOptions(closed_form="never")``) or qLogNParEGO
            (``acquisition="parego"``), with pending points and batches. Not with
            ``maximize=True``, a pruner or a fidelity.
        constraints: ``{name: ("<=" | ">=", bound)}``: black-box constraints, told with
            the objectives (without ``objectives=`` the one objective is ``"value"``:
            ``tell(trial, {"value": v, "memory_gb": m})``). One GP per outcome; the
            probability of feasibility multiplies the improvement (constrained LogEI
            or the expected hypervolume improvement, in closed form for one point), and
            before the first feasible trial asks maximise the probability of
            feasibility. ``best`` is the best feasible trial, ``None`` while none is. A
            NaN constraint value counts as violated. Studies with outcomes search
            globally (no trust region).
        reference_point: ``{objective: value}`` with two or more objectives, in the
            user's units: the point beyond which a trade-off is worth nothing. The asks
            maximise the hypervolume above it (mapped through each objective's output
            transform), and ``hypervolume()`` measures it there. ``None`` (default): the
            asks infer two at every ask (BoTorch's ``infer_reference_point``, the nadir
            plus 10 % of the range, of every feasible observation and of their Pareto
            front) and maximise the sum of the improvements relative to each, each
            divided by the volume already held there
            (``ProposeOptions.reference_from``).
        failure_model: how failed trials inform the asks. ``"impute"`` (default): each
            is imputed with the worst value observed, so the GP learns that its region
            is bad. ``"classifier"``: failures are also an unknown constraint (Gelbart et
            al. 2014): a second GP is fitted to the 0/1 success of every finished trial,
            and its probability of success multiplies the improvement (constrained
            qLogNEI on the imputed objective's GP). Until a trial fails, the asks are the
            default's; after, they search globally (no trust region). Only for a study
            told floats, without a pruner or fidelity. On three problems with hidden
            failure regions it halved the failures on Branin but lost there on regret,
            tied on the others and cost 4-14 times as much per ask
            (``benchmarks/results/failures``), so imputation is the default.

    Example:
        >>> import bayesopt as bo
        >>> opt = bo.Optimizer(bo.Space({"x": bo.Real(-2.0, 2.0)}), seed=0)
        >>> for _ in range(8):
        ...     trial = opt.ask()
        ...     _ = opt.tell(trial, (trial.params["x"] - 0.5) ** 2)
        >>> abs(opt.best.params["x"] - 0.5) < 0.1
        True
    """

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        maximize: bool = False,
        acquisition: str = "qlognei",
        n_initial: int | None = None,
        initial_design: str = "sobol",
        model_options: gp.ModelOptions | None = None,
        propose_options: propose.ProposeOptions | None = None,
        device: str | torch.device | None = "cpu",
        storage: str | os.PathLike | None = None,
        trust_region: str = "auto",
        threads: Threads = "auto",
        pruner: Pruner | None = None,
        fidelity: mf.Fidelity | None = None,
        objectives: Mapping[str, str] | None = None,
        constraints: Mapping[str, tuple[str, float]] | None = None,
        reference_point: Mapping[str, float] | None = None,
        failure_model: str = "impute",
    ) -> None:
        if failure_model not in FAILURE_MODELS:
            raise ValueError(
                f"`failure_model` must be one of {FAILURE_MODELS}, but got {failure_model!r}."
            )
        if failure_model == "classifier" and (
            objectives is not None or constraints is not None or pruner is not None
            or fidelity is not None
        ):  # fmt: skip
            raise ValueError(
                "`failure_model='classifier'` works on one objective told as floats, without "
                "`objectives=`, `constraints=`, a pruner or a fidelity."
            )
        self.failure_model = failure_model
        if fidelity is not None and (objectives is not None or constraints is not None):
            raise ValueError(
                "`fidelity` works on one objective told as floats; a study with "
                "`objectives=` or `constraints=` takes no fidelity."
            )
        if fidelity is not None and not isinstance(fidelity, mf.Fidelity):
            raise TypeError(
                f"`fidelity` must be a bayesopt.multifidelity.Fidelity or None, but got "
                f"{fidelity!r}."
            )
        if fidelity is not None and fidelity.model == "rungs" and pruner is None:
            pruner = fidelity.schedule()
        self.fidelity = fidelity
        super().__init__(
            space, seed=seed, maximize=maximize, pruner=pruner, objectives=objectives,
            constraints=constraints, reference_point=reference_point,
        )  # fmt: skip
        self.acquisition = _acq_name(acquisition, self.outcomes)
        if n_initial is None:
            n_initial = default_n_initial(space)
        elif not isinstance(n_initial, numbers.Integral) or isinstance(n_initial, bool):
            raise TypeError(f"`n_initial` must be an int or None, but got {n_initial!r}.")
        elif n_initial < 1:
            raise ValueError(f"`n_initial >= 1` must hold, but got n_initial={n_initial}.")
        self.n_initial = int(n_initial)
        if initial_design not in INITIAL_DESIGNS:
            raise ValueError(
                f"`initial_design` must be one of {INITIAL_DESIGNS}, but got {initial_design!r}."
            )
        self.initial_design = initial_design
        if model_options is not None and not isinstance(model_options, gp.ModelOptions):
            raise TypeError(
                f"`model_options` must be a bayesopt.ModelOptions, but got {model_options!r}."
            )
        self.model_options = model_options or gp.ModelOptions()
        if propose_options is not None and not isinstance(propose_options, propose.ProposeOptions):
            raise TypeError(
                f"`propose_options` must be a ProposeOptions, but got {propose_options!r}."
            )
        self.propose_options = propose_options or propose.ProposeOptions()
        options = self.propose_options
        if options.portfolio and (
            objectives is not None or constraints is not None or failure_model != "impute"
            or (fidelity is not None and fidelity.model == "gp") or self.acquisition == "ts"
            or options.thompson_share or options.thompson_after
        ):  # fmt: skip
            raise ValueError(
                "`ProposeOptions(portfolio=...)` chooses the acquisition of a study with one "
                "objective told as floats: it works without `objectives=`, `constraints=`, "
                "`failure_model='classifier'`, `Fidelity(model='gp')`, `acquisition='ts'` "
                "and the Thompson hedges."
            )
        if trust_region not in trust_region_module.MODES:
            raise ValueError(
                f"`trust_region` must be one of {trust_region_module.MODES}, "
                f"but got {trust_region!r}."
            )
        self.trust_region = trust_region
        self.device = resolve_device(device)
        self.threads = check_threads(threads)
        if self.device.type == "cuda":
            torch.cuda.init()  # so that seeded_torch forks the GPU's generator too
        self._grids = [space.grid(i) for i in range(space.dim)]
        self._structure = space.unit_structure()  # conditions and constraints, or None
        self.open(storage)  # last: the journal records settings()

    def settings(self) -> dict[str, Any]:
        """The arguments that define the study, as a journal records them.

        ``device`` and ``threads`` are left out: where and on how many threads the GP runs
        is not part of a study, which may be created on a GPU and resumed on a CPU (the
        asks agree up to float rounding). ``fidelity`` is recorded when set, and
        ``failure_model`` when it is not the default.
        """
        return (
            {
                "acquisition": self.acquisition,
                "n_initial": self.n_initial,
                "initial_design": self.initial_design,
                "model_options": self.model_options,
                "propose_options": self.propose_options,
                "trust_region": self.trust_region,
            }
            | ({} if self.fidelity is None else {"fidelity": self.fidelity})
            | ({} if self.failure_model == "impute" else {"failure_model": self.failure_model})
        )

    # Budgets ----------------------------------------------------------------------------
    def check_step(self, step: float) -> None:
        """Raise ``ValueError`` for a step beyond the pruner's budgets or outside the
        fidelity range."""
        super().check_step(step)
        if self.fidelity is not None:
            self.fidelity.check_step(step)

    def reached_budget(self, trial: Trial) -> bool:
        """Whether a pending trial reported a step at or beyond its ``budget``, when that
        is below the full one (``fidelity.max_step``)."""
        return (
            self.fidelity is not None
            and trial.budget is not None
            and trial.budget < self.fidelity.max_step
            and bool(trial.intermediate)
            and trial.intermediate[-1][0] >= trial.budget
        )

    def _uses_curves(self) -> bool:
        """Whether asks fit the multi-fidelity GP on every trial's curve."""
        return self.fidelity is not None and self.fidelity.model == "gp"

    # The one hook -----------------------------------------------------------------------
    def suggest(self, request: Request) -> list[tuple[dict[str, Any], Source]]:
        """The initial design while the history is short, then the GP's points (or
        space-filling ones when the GP cannot be used), each with its source."""
        n, position, seed = request.n, request.position, request.seed
        n_design = min(n, max(0, self.n_initial - position))
        if not self._has_data(request.history.trials):
            n_design = n  # no data yet (results still pending): keep filling the space
        U_pending = self._encode(list(request.pending))
        initial = self._initial_design(n_design, position, U_pending)
        out: list[tuple[dict[str, Any], Source]] = [(p, Source.INITIAL) for p in initial]
        budgets = self._initial_budgets(position, n_design)
        n_model = n - n_design
        if n_model and self._random_ask(position + n_design):
            U = self.space.sample_unit(n_model, seed=derive_seed(seed, _RANDOM_KEY), sobol=False)
            out += [(self.space.from_unit(u), Source.RANDOM) for u in U]
            budgets += self._initial_budgets(position + n_design, n_model)
        elif n_model:
            U_pending = torch.cat([U_pending, self._encode([p for p, _ in out])])
            try:
                U, chosen = self._model_points(n_model, U_pending, seed, position + n_design)
                source = Source.MODEL
            except _CannotModel as exc:
                warnings.warn(
                    FallbackWarning(
                        f"bayesopt: the GP could not be used for this ask ({exc}); "
                        "proposing a space-filling point instead.",
                        exc.reason,
                    ),
                    stacklevel=3,
                )
                U = self._space_filling(n_model, U_pending, seed)
                chosen = self._initial_budgets(position + n_design, n_model)
                source = Source.FALLBACK
            out += [(self.space.from_unit(u), source) for u in U]
            budgets += chosen
        if self.fidelity is None:
            return out
        return [(p, src, b) for (p, src), b in zip(out, budgets, strict=True)]  # type: ignore[misc]

    def _random_ask(self, position: int) -> bool:
        """Whether the ask at ``position`` draws uniform points instead of the GP's: with
        ``Fidelity(model="rungs")``, a share ``fidelity.random_fraction`` of them, drawn
        from the seed and the position."""
        if self.fidelity is None or self.fidelity.model != "rungs":
            return False
        return derive_seed(self.seed, position, _RANDOM_KEY) / 2**32 < self.fidelity.random_fraction

    def _has_data(self, trials: Sequence[Trial]) -> bool:
        """Whether the GP has something to fit: two complete trials or a failed one (with
        a pruner, two values at one budget; with the fidelity GP, two observations)."""
        if any(t.state is TrialState.FAILED for t in trials):
            return True
        if self._uses_curves():
            return sum(len(t.intermediate) + (t.state is TrialState.COMPLETE) for t in trials) >= 2
        if self.pruner is not None:
            return mf.choose_rung(trials, self.pruner, 2, maximize=self.maximize) is not None
        return sum(t.state is TrialState.COMPLETE for t in trials) >= 2

    def _initial_budgets(self, position: int, n: int) -> list[float | None]:
        """The budgets of ``n`` trials from ``position`` of the initial design (or of
        fallback points): Hyperband-like shares with the fidelity GP, else the full one."""
        if self.fidelity is None:
            return [None] * n
        if not self._uses_curves():
            return [self.fidelity.max_step] * n
        pattern = mf.initial_budgets(self.fidelity, self.n_initial)
        return [pattern[(position + i) % len(pattern)] for i in range(n)]

    # Steps ------------------------------------------------------------------------------
    def _encode(self, params: list[dict[str, Any]]) -> Tensor:
        if not params:
            return torch.empty(0, self.space.dim, dtype=DTYPE)
        return torch.stack([self.space.to_unit(p) for p in params])

    def _asked(self) -> Tensor:
        return self._encode([t.params for t in self._trials])

    def _initial_design(self, n: int, position: int, U_pending: Tensor) -> list[dict[str, Any]]:
        """The next ``n`` points of the seeded Sobol sequence not yet asked (finite spaces)."""
        if n == 0:
            return []
        finite = self.space.n_points is not None and self.space.n_points <= FINITE_DEDUP_LIMIT
        n_draw = position + n + (64 if finite else 0)
        if self.initial_design == "random":
            U = self.space.sample_unit(n_draw, derive_seed(self.seed), sobol=False)
        else:
            U = self.space.sobol(n_draw, derive_seed(self.seed))
        if not finite:
            return [self.space.from_unit(u) for u in U[position : position + n]]
        seen = {_key(u) for u in torch.cat([self._asked(), U_pending])}
        chosen: list[Tensor] = []
        for u in U:
            if _key(u) not in seen:
                seen.add(_key(u))
                chosen.append(u)
                if len(chosen) == n:
                    break
        if len(chosen) < n:  # the space is exhausted: each point again, spread out
            taken = torch.cat([U_pending, *(u[None] for u in chosen)])
            chosen += list(self._space_filling(n - len(chosen), taken, self.seed))
        return [self.space.from_unit(u) for u in chosen]

    def model_data(self) -> ModelData:
        """The training tensors of the next ask's GP, in the unit cube and the model's units.

        The ask fits its GP on exactly these tensors (on ``model_options.max_exact`` of them
        at most), and ``bayesopt.plot`` refits the same GP from them.

        With a pruner these are the values at one rung (``ModelData.from_rung``:
        BOHB-style, ``data.budget`` says which). With ``Fidelity(model="gp")`` the ask fits
        ``fidelity_data()`` instead, and this is the rung view of the same trials.

        Raises:
            ValueError: fewer than two trials are complete (with a pruner: no budget holds
                two values).

        Example:
            >>> import bayesopt as bo
            >>> opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
            >>> for x in (0.2, 0.5, 0.9):
            ...     _ = opt.add({"x": x}, (x - 0.4) ** 2)
            >>> data = opt.model_data()
            >>> data.X.shape, data.y.shape, int(data.y.argmax())
            (torch.Size([3, 1]), torch.Size([3]), 1)
        """
        if self.outcomes is not None:
            raise ValueError(
                "model_data() is the single objective's data; a study with declared "
                "outcomes is fitted on outcome_data()."
            )
        if self.pruner is not None or self._uses_curves():
            return ModelData.from_rung(
                self._trials,
                self.space,
                self.pruner,
                maximize=self.maximize,
                output_warp=self.model_options.output_warp,
            )
        return self._complete_data()

    def _complete_data(self) -> ModelData:
        return ModelData.from_trials(
            self._trials,
            self.space,
            maximize=self.maximize,
            output_warp=self.model_options.output_warp,
        )

    def fidelity_data(self) -> tuple[Tensor, Tensor, Tensor]:
        """The training tensors of the multi-fidelity GP (``Fidelity(model="gp")``).

        Returns:
            ``(X, y, X_failed)``: ``n x (d + 1)`` inputs (configuration, then the budget's
            coordinate ``fidelity.to_unit(step)``), ``n`` transformed targets (larger is
            better; failures imputed with the worst value) and ``f x (d + 1)`` inputs of
            the failures (the last ``f`` rows of ``X``), from every trial's reports
            (``multifidelity.curve_data``).

        Raises:
            ValueError: the optimiser has no fidelity, or there are fewer than two
                observations.

        Example:
            >>> import bayesopt as bo
            >>> fid = bo.multifidelity.Fidelity(1, 9, model="gp")
            >>> opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0, fidelity=fid)
            >>> t = opt.ask()
            >>> for step in (1, 3):
            ...     _ = opt.report(t, step, 1.0 / step)
            >>> X, y, X_failed = opt.fidelity_data()
            >>> X.shape, X[:, -1].tolist()
            (torch.Size([2, 2]), [0.0, 0.5])
        """
        if self.fidelity is None:
            raise ValueError("fidelity_data() needs an Optimizer with `fidelity=`.")
        X, loss, X_failed = mf.curve_data(
            self._trials, self.space, self.fidelity, maximize=self.maximize
        )
        if len(X) < 2:
            raise ValueError(f"the GP needs at least 2 observations, but there are {len(X)}.")
        if len(X_failed):
            X = torch.cat([X, X_failed])
            loss = torch.cat([loss, loss.max().expand(len(X_failed))])
        y, _ = gp.fit_output_transform(-loss, self.model_options.output_warp)
        return X, y, X_failed

    def recommend(self) -> Trial | None:
        """The complete trial to deploy: ``best``, unless the GP finds the objective noisy.

        On a noisy objective the lowest observed value is partly luck, and ``best`` tends
        to be a configuration that was measured on a good day. When the GP fitted on the
        study judges the objective noisy (the rule the ask uses: at least
        ``NOISY_MIN_TRIALS`` complete trials and a fitted noise above ``NOISY_FRACTION`` of
        the output variance), this is the complete trial with the best posterior mean
        instead. Deterministic for a given study (seeded by the study's seed and size).

        Returns:
            A copy of the trial, or ``None`` before any trial is complete.

        Example:
            >>> import bayesopt as bo
            >>> opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
            >>> for x in (0.1, 0.4, 0.8):
            ...     _ = opt.add({"x": x}, (x - 0.4) ** 2)
            >>> opt.recommend().params == opt.best.params  # a deterministic objective
            True
        """
        done = [t for t in self._trials if t.state is TrialState.COMPLETE]
        if len(done) < NOISY_MIN_TRIALS or self.outcomes is not None:
            return self.best
        data = self._complete_data()
        seed = derive_seed(self.seed, len(self._trials), _RECOMMEND_KEY)
        limit = threads_for(self.threads, min(len(data.X), self.model_options.max_exact))
        try:
            with warnings.catch_warnings(), seeded_torch(seed), gp.exact(), limited_threads(limit):
                warnings.simplefilter("ignore", NumericalWarning)
                warnings.simplefilter("ignore", BotorchWarning)
                X, y = self._local_data(data.X, data.y)
                model = gp.fit(
                    X, y, cat_dims=self.space.categorical_dims, seed=seed,
                    options=self.model_options,
                )  # fmt: skip
                if gp.noise_fraction(model) <= NOISY_FRACTION:
                    return self.best
                with torch.no_grad():
                    mean = model.posterior(data.X[: len(done)]).mean.reshape(-1)
        except (NotPSDError, torch.linalg.LinAlgError, ModelFittingError, gp.SurrogateError):
            return self.best  # no model to trust: the observations are all there is
        return done[int(torch.argmax(mean))].copy()

    def _model_points(
        self, n: int, U_pending: Tensor, seed: int, position: int
    ) -> tuple[Tensor, list[float | None]]:
        """``n`` points from the GP for the ask whose first trial is ``position``, and their
        budgets (``None`` without a fidelity)."""
        if self._uses_curves():
            return self._guarded(lambda on: self._propose_fidelity(n, U_pending.to(on), seed), seed)
        if self.outcomes is not None:
            try:
                odata = self.outcome_data()
            except ValueError as exc:
                raise _CannotModel(str(exc), FallbackReason.TOO_FEW_COMPLETE) from None

            def outcome_points(on: torch.device) -> tuple[Tensor, list[float | None]]:
                return self._propose_outcomes(n, odata, U_pending.to(on), seed), [None] * n

            return self._guarded(outcome_points, seed, len(odata.X))
        n_done = sum(t.state is TrialState.COMPLETE for t in self._trials)
        if self.pruner is None and n_done < 2:
            raise _CannotModel(
                f"{n_done} complete trial(s), the GP needs at least 2",
                FallbackReason.TOO_FEW_COMPLETE,
            )
        try:
            data = self.model_data()
        except ValueError as exc:
            raise _CannotModel(str(exc), FallbackReason.TOO_FEW_COMPLETE) from None
        X, y, X_failed = data.X, data.y, data.X_failed
        budget = None if self.fidelity is None else self.fidelity.max_step

        def points(on: torch.device) -> tuple[Tensor, list[float | None]]:
            if self.failure_model == "classifier" and len(X_failed):
                U = self._propose_classifier(n, data, U_pending.to(on), seed)
                return U, [budget] * n
            U = self._propose(
                n, X.to(on), y.to(on), X_failed.to(on), U_pending.to(on), seed, position
            )
            return U, [budget] * n

        return self._guarded(points, seed, len(X))

    def _guarded(
        self,
        points: Callable[[torch.device], tuple[Tensor, list[float | None]]],
        seed: int,
        n_fit: int | None = None,
    ) -> tuple[Tensor, list[float | None]]:
        """Run ``points`` (a GP fit and an acquisition search) seeded, on the optimiser's
        device and threads; numerical failures become ``_CannotModel``."""
        if n_fit is None:
            n_fit = sum(len(t.intermediate) + 1 for t in self._trials)
        try:
            with warnings.catch_warnings():
                # Jitter and fallback notices from GPyTorch/BoTorch are routine here.
                warnings.simplefilter("ignore", NumericalWarning)
                warnings.simplefilter("ignore", BotorchWarning)
                # BoTorch draws from torch's global RNG in places (baseline pruning when
                # pending points change, fit restarts): seed it here and restore it after.
                limit = threads_for(self.threads, min(n_fit, self.model_options.max_exact))
                with seeded_torch(seed), gp.exact(), limited_threads(limit):
                    U, budgets = points(self.device)
                    U = U.cpu()
        except (NotPSDError, torch.linalg.LinAlgError) as exc:  # numerical failures fall back;
            raise _CannotModel(f"{type(exc).__name__}: {exc}", FallbackReason.NOT_PSD) from exc
        except ModelFittingError as exc:  # anything else is a bug, and surfaces
            raise _CannotModel(f"{type(exc).__name__}: {exc}", FallbackReason.FIT_FAILED) from exc
        except gp.SurrogateError as exc:
            raise _CannotModel(str(exc), FallbackReason.NON_FINITE) from exc
        if not bool(torch.isfinite(U).all()):
            raise _CannotModel(
                "the acquisition optimiser returned non-finite points", FallbackReason.NON_FINITE
            )
        return U, budgets

    def _propose_fidelity(
        self, n: int, U_pending: Tensor, seed: int
    ) -> tuple[Tensor, list[float | None]]:
        """Fit the multi-fidelity GP on every trial's curve; the ``n`` configurations
        maximising the acquisition at the full budget, and each one's budget
        (``multifidelity.choose_budget``)."""
        assert self.fidelity is not None
        try:
            X, y, X_failed = self.fidelity_data()
        except ValueError as exc:
            raise _CannotModel(str(exc), FallbackReason.TOO_FEW_COMPLETE) from None
        on = U_pending.device
        X, y, X_failed = X.to(on), y.to(on), X_failed.to(on)
        d = self.space.dim
        model = gp.fit_fidelity(
            X, y, kernel=self.fidelity.kernel, cat_dims=self.space.categorical_dims,
            seed=seed, options=self.model_options,
        )  # fmt: skip
        noise = gp.noise_fraction(model)
        top = X[:, d] >= 1.0 - 1e-9
        configs = torch.unique(X[: len(X) - len(X_failed), :d], dim=0)
        full = torch.cat([configs, torch.ones(len(configs), 1).to(configs)], dim=1)
        with torch.no_grad():
            mean_full = model.posterior(full).mean.reshape(-1)
        ones = torch.ones(len(U_pending), 1).to(U_pending)
        # LogEI over the best posterior mean at the full budget: the incumbent of a noisy,
        # partly low-fidelity study is a prediction, not an observation.
        acqf = acquisition.make(
            "logei",
            model,
            X_baseline=full,
            best_f=float(mean_full.max()),
            X_pending=torch.cat([U_pending, ones], dim=1),
            q=n,
            seed=seed,
            noise_fraction=noise,
        )
        # Configurations trained to the full budget, pending ones and failures are avoided;
        # one seen at a lower budget may come back with a larger one.
        X_avoid = torch.cat([U_pending, X_failed[:, :d], X[top][:, :d]])
        n_best = self.propose_options.n_incumbents
        X_best = configs[torch.argsort(mean_full, descending=True, stable=True)[:n_best]]
        chosen: list[Tensor] = []
        budgets: list[float | None] = []
        if self.fidelity.promote:
            x = mf.promotion(model, configs, X[top][:, :d], U_pending)
            if x is not None:
                chosen.append(x)
                budgets.append(self.fidelity.max_step)
        # Pending points at the full budget, for the acquisitions over (x, s).
        pending_full = torch.cat([U_pending, ones], dim=1) if len(U_pending) else None
        if n == 1 and not chosen and self.fidelity.acquisition == "mes":
            x, budget = self._mes_choice(model, U_pending, pending_full, X_avoid, X_best, seed)
            return x[None], [budget]
        if n == 1 and not chosen and self.fidelity.acquisition == "kg":
            x, budget = mf.kg_choice(model, self.fidelity, d, seed, pending_full)
            return self.space.snap(x[None]), [budget]
        if n > len(chosen):
            pending = torch.cat([U_pending, *(x[None] for x in chosen)])
            if chosen:  # a batch (an MC acquisition): the promoted point is pending too
                acqf.set_X_pending(torch.cat([pending, torch.ones(len(pending), 1).to(pending)], 1))
            U = propose.maximize(
                mf.target_acquisition(acqf, d),
                self._grids,
                q=n - len(chosen),
                seed=seed,
                X_pending=pending,
                X_avoid=torch.cat([X_avoid, pending]),
                X_starts=X_best,
                options=self.propose_options,
                cat_dims=self.space.categorical_dims,
                structure=self._structure,
            )
            chosen += list(U)
            budgets += [mf.choose_budget(model, u, configs, self.fidelity)[0] for u in U]
        return torch.stack(chosen), budgets

    def _mes_choice(
        self,
        model: Any,
        U_pending: Tensor,
        pending_full: Tensor | None,
        X_avoid: Tensor,
        X_best: Tensor,
        seed: int,
    ) -> tuple[Tensor, float]:
        """``Fidelity(acquisition="mes")``: the configuration and budget that maximise
        multi-fidelity max-value entropy per unit cost, one search per budget
        (``pending_full``: the pending configurations at the full budget, or ``None``)."""
        assert self.fidelity is not None
        d = self.space.dim
        acqf = mf.mes_acquisition(model, self.fidelity, d, seed, pending_full)
        best: tuple[float, Tensor, float] | None = None
        for budget in self.fidelity.budgets:
            s = float(self.fidelity.to_unit(budget))
            fixed = FixedFeatureAcquisitionFunction(acqf, d + 1, columns=[d], values=[s])
            U = propose.maximize(
                fixed, self._grids, q=1, seed=seed, X_pending=U_pending, X_avoid=X_avoid,
                X_starts=X_best, options=self.propose_options,
                cat_dims=self.space.categorical_dims, structure=self._structure,
            )  # fmt: skip
            with torch.no_grad():
                value = float(fixed(U[None]).reshape(-1)[0])
            if best is None or value > best[0]:
                best = (value, U[0], budget)
        assert best is not None
        return best[1], best[2]

    def _propose(
        self,
        n: int,
        X: Tensor,
        y: Tensor,
        X_failed: Tensor,
        U_pending: Tensor,
        seed: int,
        position: int,
    ) -> Tensor:
        """Fit the GP on ``X, y`` and maximise the acquisition for ``n`` unit points (the
        ask's first trial is ``position``)."""
        X_all = X
        X, y = self._local_data(X, y)
        model = gp.fit(
            X, y, cat_dims=self.space.categorical_dims, seed=seed, options=self.model_options
        )
        noise = gp.noise_fraction(model)
        noisy = len(X_all) - len(X_failed) >= NOISY_MIN_TRIALS and noise > NOISY_FRACTION
        X_avoid = torch.cat([U_pending, X_failed] + ([] if noisy else [X_all]))
        n_best = self.propose_options.n_incumbents
        X_best = X[torch.argsort(y, descending=True, stable=True)[:n_best]]
        name = self._portfolio_arm(position) if n == 1 else self.acquisition
        if name == "ts" or self._thompson_ask(seed):
            return propose.thompson(
                model, self._grids, q=n, seed=seed, X_avoid=X_avoid, X_centers=X_best,
                structure=self._structure,
            )  # fmt: skip
        acqf = acquisition.make(
            name,
            model,
            X_baseline=X,
            best_f=float(y.max()),
            X_pending=U_pending,
            q=n,
            seed=seed,
            noise_fraction=noise,
            closed_form=self.propose_options.closed_form,
        )
        scales = gp.lengthscales(model, self.space.dim, self.space.categorical_dims)
        if self._uses_trust_region():
            centre = X[int(torch.argmax(y))]
            lo, hi = trust_region_module.box(
                centre, self.region().length, scales.to(centre), self.space.categorical_dims
            )
            return self._maximize_in_box(
                acqf, lo, hi, n, seed, U_pending, X_avoid, X_best, scales.to(lo)
            )
        return self._maximize(acqf, n, seed, U_pending, X_avoid, X_best, scales)

    def outcome_data(self) -> OutcomeData:
        """The training tensors of the next ask's GPs in a study with declared outcomes:
        one column per outcome (``OutcomeData.from_trials``).

        Raises:
            ValueError: the study declares no outcomes, or fewer than two trials are
                complete.

        Example:
            >>> import bayesopt as bo
            >>> opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0,
            ...                    constraints={"c": ("<=", 0.5)})
            >>> for x in (0.2, 0.5, 0.9):
            ...     _ = opt.add({"x": x}, {"value": (x - 0.4) ** 2, "c": x})
            >>> data = opt.outcome_data()
            >>> data.Y.shape, data.feasible.tolist()
            (torch.Size([3, 2]), [True, True, False])
        """
        if self.outcomes is None:
            raise ValueError("outcome_data() needs `objectives=` or `constraints=`.")
        return OutcomeData.from_trials(
            self._trials,
            self.space,
            self.outcomes,
            output_warp=self.model_options.output_warp,
            constraint_warp=self.model_options.constraint_warp,
        )

    def _propose_outcomes(self, n: int, data: OutcomeData, U_pending: Tensor, seed: int) -> Tensor:
        """Fit one GP per outcome and maximise the outcomes' acquisition for ``n`` points
        (globally: no trust region)."""
        from botorch.models import ModelListGP

        on = U_pending.device
        X, Y, feasible = data.X.to(on), data.Y.to(on), data.feasible.to(on)
        X_all, X_failed = X, data.X_failed.to(on)
        m = data.n_objectives
        # The incumbents: the feasible Pareto set (the best feasible point with one
        # objective), else the points nearest to feasibility.
        if bool(feasible.any()):
            idx = torch.nonzero(feasible).reshape(-1)
            gains = Y[idx, :m]
            front = idx[_pareto(gains)]
            order = front[torch.argsort(Y[front, 0], descending=True, stable=True)]
        else:
            worst = (Y[:, m:] - data.thresholds.to(Y)).min(dim=1).values
            order = torch.argsort(worst, descending=True, stable=True)
        centres = X[order[: max(1, self.propose_options.n_incumbents)]]
        keep = self._outcome_subset(X, centres)
        X, Y, feasible = X[keep], Y[keep], feasible[keep]
        models = [
            gp.fit(
                X, Y[:, j], cat_dims=self.space.categorical_dims, seed=derive_seed(seed, j),
                options=self.model_options,
            )
            for j in range(Y.shape[1])
        ]  # fmt: skip
        model = ModelListGP(*models)
        acqf = acquisition.make_outcomes(
            self.acquisition,
            model,
            n_objectives=m,
            thresholds=data.thresholds.to(Y),
            X_baseline=X,
            Y_baseline=Y,
            feasible=feasible,
            X_pending=U_pending,
            seed=seed,
            closed_form=self.propose_options.closed_form,
            reference=None if data.reference is None else data.reference.to(Y),
            reference_from=self._reference_source(len(X_all)),
            margin=self.propose_options.constraint_margin,
        )
        X_avoid = torch.cat([U_pending, X_failed, X_all])
        scales = gp.lengthscales(models[0], self.space.dim, self.space.categorical_dims)
        starts = centres[: self.propose_options.n_incumbents]
        # The wider search for one point with nothing pending, where the closed form makes
        # it cheap; batches and pending points keep the Monte-Carlo cost of before.
        wide = m > 1 and n == 1 and not len(U_pending)
        options = self.propose_options.for_pareto() if wide else None
        return self._maximize(acqf, n, seed, U_pending, X_avoid, starts, scales, options)

    def _propose_classifier(self, n: int, data: ModelData, U_pending: Tensor, seed: int) -> Tensor:
        """``failure_model="classifier"``: the objective's GP (failures imputed), a GP on
        every finished trial's success (1) or failure (0), and constrained LogEI with
        success as the constraint, over the complete trials as baseline (globally).

        Fitting the objective on the complete trials only (Gelbart et al.'s choice) asked
        more failing points than imputation alone on Branin with ``x1 > 5`` failing (13
        against 7 of 75 model asks, seeds 0-2): the GP extrapolated into the failing
        region's unexplored corners, where the success GP is uncertain too."""
        from botorch.models import ModelListGP

        on = U_pending.device
        f = len(data.X_failed)
        X_all, X_failed = data.X.to(on), data.X_failed.to(on)
        y_all = data.y.to(on)
        X, y = X_all[: len(X_all) - f], y_all[: len(X_all) - f]
        success = torch.cat([torch.ones(len(X_all) - f), torch.zeros(f)]).to(y)
        keep = self._outcome_subset(X_all, X_all[int(torch.argmax(y_all))][None])
        X_fit, y_fit, success = X_all[keep], y_all[keep], success[keep]
        if len(keep) < len(X_all):  # a local model (max_exact): standardised again
            y_fit = gp.standardize(y_fit)
        z, threshold = gp.standardize_threshold(success, 0.5)
        cats = self.space.categorical_dims
        models = [
            gp.fit(X_fit, y_fit, cat_dims=cats, seed=seed, options=self.model_options),
            gp.fit(X_fit, z.to(on), cat_dims=cats, seed=derive_seed(seed, 1),
                   options=self.model_options),
        ]  # fmt: skip
        acqf = acquisition.make_outcomes(
            "qlognei",
            ModelListGP(*models),
            n_objectives=1,
            thresholds=torch.tensor([threshold]).to(y),
            X_baseline=X,
            Y_baseline=y[:, None],
            feasible=torch.ones(len(X), dtype=torch.bool, device=on),
            X_pending=U_pending,
            seed=seed,
            margin=acquisition.SUCCESS_MARGIN,
        )
        n_best = self.propose_options.n_incumbents
        X_best = X[torch.argsort(y, descending=True, stable=True)[:n_best]]
        X_avoid = torch.cat([U_pending, X_failed, X_all])
        scales = gp.lengthscales(models[0], self.space.dim, cats)
        return self._maximize(acqf, n, seed, U_pending, X_avoid, X_best, scales)

    def _reference_source(self, n_finished: int) -> str:
        """What this ask infers the hypervolume reference point from: ``"alternate"`` takes
        the observations after an even number of finished trials, the front after an odd
        one (so the same tells give the same asks)."""
        rule = self.propose_options.reference_from
        if rule != "alternate":
            return rule
        return acquisition.REFERENCE_SOURCES[n_finished % 2]

    def _outcome_subset(self, X: Tensor, centres: Tensor) -> Tensor:
        """Indices of at most ``model_options.max_exact`` observations: all of them, or
        beyond that those nearest to the incumbents (as ``_local_data`` does for one
        objective)."""
        m = self.model_options.max_exact
        if len(X) <= m:
            return torch.arange(len(X), device=X.device)
        dist = torch.cdist(X, centres).min(dim=1).values
        keep = torch.argsort(dist, stable=True)[:m]
        return torch.sort(keep).values

    def _maximize(
        self,
        acqf: AcquisitionFunction,
        n: int,
        seed: int,
        U_pending: Tensor,
        X_avoid: Tensor,
        X_starts: Tensor,
        scales: Tensor,
        options: propose.ProposeOptions | None = None,
    ) -> Tensor:
        """``propose.maximize`` over the whole space, with this optimiser's grids, options
        (or ``options``) and structure."""
        return propose.maximize(
            acqf,
            self._grids,
            q=n,
            seed=seed,
            X_pending=U_pending,
            X_avoid=X_avoid,
            X_starts=X_starts,
            options=options or self.propose_options,
            scales=scales,
            cat_dims=self.space.categorical_dims,
            structure=self._structure,
        )

    def _maximize_in_box(
        self,
        acqf: AcquisitionFunction,
        lo: Tensor,
        hi: Tensor,
        n: int,
        seed: int,
        U_pending: Tensor,
        X_avoid: Tensor,
        X_best: Tensor,
        scales: Tensor,
    ) -> Tensor:
        """``propose.maximize`` restricted to the box ``[lo, hi]`` (the trust region)."""
        boxed = trust_region_module.BoxAcquisition(acqf, lo, hi)
        grids = [
            trust_region_module.box_grid(g if g is None else g.to(lo), float(a), float(b))
            for g, a, b in zip(self._grids, lo, hi, strict=True)
        ]
        inside = ((X_best >= lo) & (X_best <= hi)).all(dim=1)
        U = propose.maximize(
            boxed,
            grids,
            q=n,
            seed=seed,
            X_pending=boxed.to_box(U_pending),
            X_avoid=boxed.to_box(X_avoid),
            X_starts=boxed.to_box(X_best[inside]),
            options=self.propose_options,
            scales=scales / (hi - lo).clamp_min(1e-12),
            cat_dims=self.space.categorical_dims,
            structure=None if self._structure is None else propose.boxed(self._structure, lo, hi),
        )
        return self.space.snap(boxed.to_cube(U).clamp(0.0, 1.0))

    def _thompson_ask(self, seed: int) -> bool:
        """Whether a model ask takes a Thompson sample instead of maximising the
        acquisition: always with ``acquisition="ts"``, otherwise by the hedges
        ``propose_options.thompson_share`` and ``thompson_after``."""
        if self.acquisition == "ts":
            return True
        share, after = self.propose_options.thompson_share, self.propose_options.thompson_after
        if share and derive_seed(seed, _THOMPSON_KEY) / 2**32 < share:
            return True
        if after:
            stale = self._since_improvement()
            return stale >= after and (stale - after) % 2 == 0
        return False

    def _portfolio_arm(self, position: int) -> str:
        """The acquisition of a one-point ask at ``position``: the study's, or with
        ``propose_options.portfolio`` an arm drawn by Thompson sampling (below)."""
        arms = self.propose_options.portfolio
        if not arms:
            return self.acquisition
        _, wins, losses = self._portfolio_replay()
        return self._draw_arm(position, wins, losses)

    def _draw_arm(self, position: int, wins: Sequence[int], losses: Sequence[int]) -> str:
        """The arm with the largest draw from ``Beta(1 + wins, 1 + losses)``, seeded by the
        study's seed and ``position``."""
        rng = np.random.default_rng(derive_seed(self.seed, position, _PORTFOLIO_KEY))
        draws = rng.beta(1.0 + np.asarray(wins), 1.0 + np.asarray(losses))
        return self.propose_options.portfolio[int(np.argmax(draws))]

    def _portfolio_replay(self) -> tuple[dict[int, str], list[int], list[int]]:
        """The arm of every model trial, and per arm of ``propose_options.portfolio`` its
        wins and losses so far.

        A win is a model trial of that arm whose value, when it finished, beat every
        trial finished before it; a loss is one that did not, or failed. Each model
        trial's arm is drawn again from the record of the trials that had finished when
        it was asked (``History.finished``, ``History.asked_at``), exactly as its ask drew
        it, so the record is a function of the events: a resumed study continues as the
        uninterrupted one, with parallel asks too. Asks of several points use the study's
        acquisition; their trials count for the arm drawn at their position.
        """
        history, arms = self._history, self.propose_options.portfolio
        trials, finished = history.trials, history.finished
        wins, losses = [0] * len(arms), [0] * len(arms)
        arm_of: dict[int, int] = {}
        best, applied = math.inf, 0

        def advance(upto: int) -> None:
            nonlocal best, applied
            for tid in finished[applied:upto]:
                t = trials[tid]
                ok = t.state is TrialState.COMPLETE and t.value is not None
                loss = self._loss(t.value) if ok and t.feasible is not False else math.nan
                if tid in arm_of:
                    if math.isfinite(loss) and loss < best:
                        wins[arm_of[tid]] += 1
                    else:
                        losses[arm_of[tid]] += 1
                if math.isfinite(loss):
                    best = min(best, loss)
            applied = max(applied, upto)

        for t in trials:
            if t.source is Source.MODEL:
                advance(history.asked_at[t.id])
                arm_of[t.id] = arms.index(self._draw_arm(t.id, wins, losses))
        advance(len(finished))
        return {tid: arms[a] for tid, a in arm_of.items()}, wins, losses

    def _since_improvement(self) -> int:
        """Complete trials, in the order they were asked, since the last one that improved
        the best value (the trial that set it not counted)."""
        best, since = math.inf, 0
        for t in self._trials:
            if t.state is not TrialState.COMPLETE or t.value is None or t.feasible is False:
                continue
            loss = self._loss(t.value)
            if not math.isfinite(loss):
                continue
            if loss < best:
                best, since = loss, 0
            else:
                since += 1
        return since

    def _uses_trust_region(self) -> bool:
        if self.trust_region == "never" or self.acquisition == "ts":
            return False
        if self.trust_region == "always":
            return True
        ordinal = self.space.active_ordinal_dim  # the most active at once
        if ordinal >= trust_region_module.MIN_DIMS:
            return True
        return self.trust_region == "stagnation" and self.region().active

    def region(self) -> trust_region_module.TrustRegion:
        """The trust region's state after the finished trials (meaningful when the
        optimiser uses one; see ``trust_region``)."""
        finished = [t for t in self._trials if t.state is not TrialState.PENDING]
        losses = [
            self._loss(t.value)
            if t.state is TrialState.COMPLETE and t.value is not None and t.feasible is not False
            else float("nan")
            for t in finished
        ]
        counts = [t.source in (Source.MODEL, Source.FALLBACK) for t in finished]
        start_global = (
            self.trust_region == "stagnation"
            and self.space.active_ordinal_dim < trust_region_module.MIN_DIMS
        )
        return trust_region_module.replay(
            losses,
            counts,
            self.space.dim,
            start_global=start_global,
            success=self.propose_options.region_success,
        )

    def _local_data(self, X: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """At most ``model_options.max_exact`` observations: beyond, those nearest the best.

        An exact GP costs ``O(n**3)`` time and ``O(n**2)`` memory. With more observations
        than ``max_exact`` the GP is a local model: the best observation and the
        ``max_exact - 1`` observations nearest to it (Euclidean, unit cube). This is where
        the acquisition search concentrates by then, as in trust-region BO (TuRBO).
        """
        m = self.model_options.max_exact
        if len(X) <= m:
            return X, y
        centre = X[int(torch.argmax(y))]
        keep = torch.argsort(torch.linalg.vector_norm(X - centre, dim=1), stable=True)[:m]
        keep = torch.sort(keep).values
        return X[keep], gp.standardize(y[keep])

    def _space_filling(self, n: int, U_pending: Tensor, seed: int) -> Tensor:
        """``n`` points far from every asked point, and from each other.

        Greedy max-min over a Sobol sample: each pick is the candidate farthest from every
        asked, pending and already picked point, keeping each candidate's distance to the
        nearest of them up to date (``O(n m d)`` for ``m`` candidates). At most
        ``SPACE_FILLING_GREEDY`` points are picked so; the rest of a larger batch are the
        next points of the same Sobol sequence, which is itself space-filling. When every
        candidate coincides with a taken point (a finite space asked for more points than
        it has), a new round starts that ignores the earlier points, so within one ask each
        point of the space comes once before any comes twice.
        """
        n_greedy = min(n, SPACE_FILLING_GREEDY)
        m = max(256, 4 * n_greedy)
        sobol = self.space.sample_unit(m + n - n_greedy, seed=derive_seed(seed, 1))
        cands, rest = sobol[:m], sobol[m:]
        taken = torch.cat([self._asked(), U_pending])
        nearest = torch.full((len(cands),), math.inf, dtype=cands.dtype)
        for chunk in torch.split(taken, 1024) if len(taken) else ():
            nearest = torch.minimum(nearest, torch.cdist(cands, chunk).min(dim=1).values)
        chosen = []
        for _ in range(n_greedy):
            if not bool(nearest.max() > 0):  # every candidate is taken: a new round
                nearest.fill_(math.inf)
            k = int(torch.argmax(nearest))
            chosen.append(cands[k])
            nearest = torch.minimum(nearest, torch.linalg.vector_norm(cands - cands[k], dim=1))
        return torch.cat([torch.stack(chosen), rest]) if chosen else rest


class _CannotModel(Exception):
    """Internal: this ask cannot use the GP, for ``reason``."""

    def __init__(self, message: str, reason: FallbackReason) -> None:
        super().__init__(message)
        self.reason = reason


def _pareto(gains: Tensor) -> Tensor:
    """``n`` booleans: the non-dominated rows of ``n x m`` gains."""
    from bayesopt.outcomes import pareto_mask

    return pareto_mask(gains.cpu()).to(gains.device)


def _key(u: Tensor) -> tuple[float, ...]:
    return tuple(round(x, 12) for x in u.tolist())


def _acq_name(name: object, outcomes: Any = None) -> str:
    if outcomes is not None:
        known = acquisition.OUTCOME_ACQUISITIONS
        if not isinstance(name, str):
            raise TypeError(f"Optimizer: `acquisition` must be a str, but got {name!r}.")
        if name not in known:
            raise ValueError(
                f"Optimizer: with `objectives=` or `constraints=`, `acquisition` must be one "
                f"of {known}, but got {name!r}."
            )
        if name == "parego" and not outcomes.multi:
            raise ValueError(
                "Optimizer: `acquisition='parego'` needs several objectives, but the study "
                f"has one ({outcomes.objective_names[0]!r})."
            )
        return name
    try:
        return acquisition.check_name(name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"Optimizer: {exc}") from None
