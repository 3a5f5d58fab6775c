"""GP-based Bayesian optimisation behind the ask/tell interface (orchestration only).

One ask, step by step:

1. While fewer than ``n_initial`` trials exist (or fewer than two are complete and none
   failed, e.g. a large first batch), return points of a scrambled Sobol sequence seeded by
   ``seed`` (in a finite space, skipping points that were already asked).
2. Otherwise fit the GP (``gp.fit``) on ``model_data()``: the complete trials, in the unit
   cube, with transformed negated losses. **Failed trials are imputed with the worst value
   observed so far**, so the model learns that their region is bad and the optimiser steers
   away.
3. Build the acquisition (``acquisition.make``) with the pending trials as pending points.
4. Maximise it over the mixed domain (``propose.maximize``), never returning a point that is
   pending or, unless the GP has found the objective noisy, one already evaluated.
5. Decode the unit points into params.

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
from typing import Any

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.exceptions.errors import ModelFittingError
from botorch.exceptions.warnings import BotorchWarning
from linear_operator.utils.errors import NotPSDError
from linear_operator.utils.warnings import NumericalWarning
from torch import Tensor

from bayesopt import acquisition, gp, propose
from bayesopt import trust_region as trust_region_module
from bayesopt._device import resolve_device
from bayesopt._rng import derive_seed, seeded_torch
from bayesopt._threads import Threads, check_threads, limited_threads, threads_for
from bayesopt.asktell import AskTell
from bayesopt.model_data import ModelData
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
FINITE_DEDUP_LIMIT = 100_000
"""In finite spaces with at most this many points the initial design skips repeats."""
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

    In a finite space it is capped at half the number of points (at least 1).
    """
    n = min(max(2 * space.dim + 1, 5), 20)
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
            otherwise; ``"always"`` and ``"never"`` force either (see
            ``bayesopt.trust_region``). Thompson sampling always searches globally.
        threads: the thread limit of the GP fit and the acquisition search, restored after
            every ask. ``"auto"`` (default) runs asks on fewer than
            ``bayesopt._threads.LARGE_N`` (10,000) observations on one thread, which is
            fastest for small GPs and does not stall when other processes keep the cores
            busy, and larger ones with the caller's thread count; an int fixes the limit;
            ``None`` leaves torch's and BLAS's threads alone. Torch's thread count is
            process-wide, so other threads of the process see the limit during an ask.
        pruner: stops trials early from their intermediate reports (``report``,
            ``should_stop``; see ``bayesopt.pruners``). The GP is fitted on complete and
            failed trials; pruned ones are left out of it.

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
    ) -> None:
        super().__init__(space, seed=seed, maximize=maximize, pruner=pruner)
        self.acquisition = _acq_name(acquisition)
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
        self.open(storage)  # last: the journal records settings()

    def settings(self) -> dict[str, Any]:
        """The arguments that define the study, as a journal records them.

        ``device`` and ``threads`` are left out: where and on how many threads the GP runs
        is not part of a study, which may be created on a GPU and resumed on a CPU (the
        asks agree up to float rounding).
        """
        return {
            "acquisition": self.acquisition,
            "n_initial": self.n_initial,
            "initial_design": self.initial_design,
            "model_options": self.model_options,
            "propose_options": self.propose_options,
            "trust_region": self.trust_region,
        }

    # The one hook -----------------------------------------------------------------------
    def suggest(self, request: Request) -> list[tuple[dict[str, Any], Source]]:
        """The initial design while the history is short, then the GP's points (or
        space-filling ones when the GP cannot be used), each with its source."""
        n, position, seed = request.n, request.position, request.seed
        n_design = min(n, max(0, self.n_initial - position))
        states = [t.state for t in request.history.trials]
        if states.count(TrialState.COMPLETE) < 2 and TrialState.FAILED not in states:
            n_design = n  # no data yet (results still pending): keep filling the space
        U_pending = self._encode(list(request.pending))
        initial = self._initial_design(n_design, position, U_pending)
        out = [(p, Source.INITIAL) for p in initial]
        n_model = n - n_design
        if n_model:
            U_pending = torch.cat([U_pending, self._encode([p for p, _ in out])])
            try:
                U = self._model_points(n_model, U_pending, seed)
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
                source = Source.FALLBACK
            out += [(self.space.from_unit(u), source) for u in U]
        return out

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
            engine = torch.quasirandom.SobolEngine(
                self.space.dim, scramble=True, seed=derive_seed(self.seed)
            )
            U = self.space.snap(engine.draw(n_draw, dtype=DTYPE))
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

        Raises:
            ValueError: fewer than two trials are complete.

        Example:
            >>> import bayesopt as bo
            >>> opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
            >>> for x in (0.2, 0.5, 0.9):
            ...     _ = opt.add({"x": x}, (x - 0.4) ** 2)
            >>> data = opt.model_data()
            >>> data.X.shape, data.y.shape, int(data.y.argmax())
            (torch.Size([3, 1]), torch.Size([3]), 1)
        """
        return ModelData.from_trials(
            self._trials,
            self.space,
            maximize=self.maximize,
            output_warp=self.model_options.output_warp,
        )

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
        if len(done) < NOISY_MIN_TRIALS:
            return self.best
        data = self.model_data()
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

    def _model_points(self, n: int, U_pending: Tensor, seed: int) -> Tensor:
        n_done = sum(t.state is TrialState.COMPLETE for t in self._trials)
        if n_done < 2:
            raise _CannotModel(
                f"{n_done} complete trial(s), the GP needs at least 2",
                FallbackReason.TOO_FEW_COMPLETE,
            )
        data = self.model_data()
        X, y, X_failed = data.X, data.y, data.X_failed
        try:
            with warnings.catch_warnings():
                # Jitter and fallback notices from GPyTorch/BoTorch are routine here.
                warnings.simplefilter("ignore", NumericalWarning)
                warnings.simplefilter("ignore", BotorchWarning)
                # BoTorch draws from torch's global RNG in places (baseline pruning when
                # pending points change, fit restarts): seed it here and restore it after.
                n_fit = min(len(X), self.model_options.max_exact)
                limit = threads_for(self.threads, n_fit)
                with seeded_torch(seed), gp.exact(), limited_threads(limit):
                    on = self.device
                    U = self._propose(
                        n, X.to(on), y.to(on), X_failed.to(on), U_pending.to(on), seed
                    ).cpu()
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
        return U

    def _propose(
        self, n: int, X: Tensor, y: Tensor, X_failed: Tensor, U_pending: Tensor, seed: int
    ) -> Tensor:
        """Fit the GP on ``X, y`` and maximise the acquisition for ``n`` unit points."""
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
        if self.acquisition == "ts":
            return propose.thompson(
                model, self._grids, q=n, seed=seed, X_avoid=X_avoid, X_centers=X_best
            )
        acqf = acquisition.make(
            self.acquisition,
            model,
            X_baseline=X,
            best_f=float(y.max()),
            X_pending=U_pending,
            q=n,
            seed=seed,
            noise_fraction=noise,
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
        return propose.maximize(
            acqf,
            self._grids,
            q=n,
            seed=seed,
            X_pending=U_pending,
            X_avoid=X_avoid,
            X_starts=X_best,
            options=self.propose_options,
            scales=scales,
            cat_dims=self.space.categorical_dims,
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
        )
        return self.space.snap(boxed.to_cube(U).clamp(0.0, 1.0))

    def _uses_trust_region(self) -> bool:
        if self.trust_region == "never" or self.acquisition == "ts":
            return False
        if self.trust_region == "always":
            return True
        ordinal = self.space.dim - len(self.space.categorical_dims)
        return ordinal >= trust_region_module.MIN_DIMS

    def region(self) -> trust_region_module.TrustRegion:
        """The trust region's state after the finished trials (meaningful when the
        optimiser uses one; see ``trust_region``)."""
        finished = [t for t in self._trials if t.state is not TrialState.PENDING]
        losses = [
            self._loss(t.value) if t.state is TrialState.COMPLETE else float("nan")
            for t in finished
        ]
        counts = [t.source in (Source.MODEL, Source.FALLBACK) for t in finished]
        return trust_region_module.replay(losses, counts, self.space.dim)

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


def _key(u: Tensor) -> tuple[float, ...]:
    return tuple(round(x, 12) for x in u.tolist())


def _acq_name(name: object) -> str:
    try:
        return acquisition.check_name(name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"Optimizer: {exc}") from None
