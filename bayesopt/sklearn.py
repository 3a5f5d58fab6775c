"""scikit-learn integration: ``BayesSearchCV``, a drop-in for ``RandomizedSearchCV``.

``BayesSearchCV`` subclasses scikit-learn's ``BaseSearchCV`` and implements its
``_run_search``: each round asks a ``bayesopt.Optimizer`` for ``n_points`` candidates
(``opt.ask(n_points)``, one joint batch), lets scikit-learn cross-validate them in parallel
(``n_jobs``, ``pre_dispatch``), and tells the optimiser each candidate's
``mean_test_<metric>``. scikit-learn scores are "greater is better", so the optimiser
maximises (``maximize=True``). A mean that is NaN or infinite (a fit or a score failed and
``error_score=np.nan``) is told as a failure, which the optimiser records as a failed trial
and steers away from. Everything else (``cv_results_``, ``best_*``, refitting, scoring,
metadata routing, callbacks) is scikit-learn's own machinery, so the fitted attributes have
exactly ``RandomizedSearchCV``'s format.

**Rounds whose every fit failed.** scikit-learn raises ``ValueError`` ("All the N fits
failed") when every fit of one call fails. ``RandomizedSearchCV`` makes one call; this
search makes one per round, so a round of one hopeless candidate would end the search.
Such a round is caught instead: its candidates are told as failures and appear in
``cv_results_`` with ``error_score`` as every split score and NaN fit and score times
(scikit-learn does not return the measured ones). Only when every round of a ``fit`` fails
does the ``ValueError`` propagate, as ``RandomizedSearchCV``'s would.

**Resuming with ``storage=``.** Each sub-space's study is journalled
(``bo.Optimizer(..., storage=path)``), and beside the journal, ``<journal>.cv.jsonl``
holds each finished candidate's cross-validation results (per-split scores, fit and score
times), written before the optimiser is told. A later ``fit`` with the same storage:

* restores every complete or failed trial of the journal that has cross-validation results:
  they are the first rows of ``cv_results_`` (in trial order, sub-space by sub-space), take
  part in ranking and in choosing ``best_*``, and the optimiser's model learns from them;
* evaluates the trials an interrupted ``fit`` left pending first, then asks new ones:
  ``n_iter`` more candidates per sub-space in all (``n_iter`` counts the candidates
  evaluated by this ``fit``, not the study's total);
* refuses (``ValueError``) when the data (a hash of ``X`` and ``y``), the number of CV
  splits, ``scoring``, ``return_train_score`` or the estimator's class differ from those the
  results were made with, and (from the journal) when the search space, the optimiser's
  settings or an int ``random_state`` differ. Fit parameters (``sample_weight``...) are not
  compared: pass the same ones.

Trials in the journal without cross-validation results (a journal written by a plain
``bo.Optimizer``) still inform the optimiser, but are not rows of ``cv_results_``; a
``UserWarning`` counts them. One ``fit`` at a time should use a storage.

**scikit-learn's estimator checks.** ``tests/test_sklearn.py`` runs
``sklearn.utils.estimator_checks.parametrize_with_checks`` on ``BayesSearchCV`` around
``Ridge``, ``LogisticRegression`` and both inside a ``Pipeline`` (``cv=2``, ``n_iter=2``),
the instances scikit-learn checks ``RandomizedSearchCV`` on. Every check passes, except
the array-API checks, which scikit-learn skips without an array-API library, and
``check_supervised_y_2d`` around a regressor, which fails for ``RandomizedSearchCV`` alike
(``EXPECTED_FAILED_CHECKS`` says why). ``check_requires_y_none`` is not run: the search's
tags, like ``RandomizedSearchCV``'s, do not say that ``y`` is required; called directly
around ``Ridge`` or ``LogisticRegression``, it fails as it does for ``RandomizedSearchCV``
(the wrapped estimator's ``fit`` raises its own ``TypeError``).

Example:
    >>> import bayesopt as bo
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from bayesopt.sklearn import BayesSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"C": bo.Real(1e-2, 1e2, log=True), "gamma": bo.Real(1e-3, 1e1, log=True)}
    >>> search = BayesSearchCV(SVC(), space, n_iter=8, cv=3, random_state=0).fit(X, y)
    >>> bool(search.best_score_ > 0.9), len(search.cv_results_["params"])
    (True, 8)
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

try:
    import joblib
    from sklearn.base import is_classifier
    from sklearn.model_selection import check_cv
    from sklearn.model_selection._search import BaseSearchCV
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "bayesopt.sklearn needs scikit-learn: pip install scikit-learn (or the extra "
        "'bayesopt[examples]')."
    ) from exc

import bayesopt as bo

__all__ = ["EXPECTED_FAILED_CHECKS", "BayesSearchCV"]

EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_supervised_y_2d": (
        "a column-vector y goes to the wrapped estimator unchanged, and a regressor such as "
        "Ridge accepts it without the DataConversionWarning the check expects (scikit-learn "
        "marks this check as an expected failure of RandomizedSearchCV too)"
    ),
}
"""The estimator check ``BayesSearchCV`` fails around a regressor, with why: the one
scikit-learn marks as an expected failure of ``RandomizedSearchCV`` and runs (around a
classifier it passes). Pass it as ``expected_failed_checks`` to ``check_estimator`` or
``parametrize_with_checks``."""

_RESERVED = ("space", "seed", "maximize", "storage")
"""Optimizer arguments that ``BayesSearchCV`` sets itself."""
_CV_FORMAT = "bayesopt.sklearn.cv"
_CV_VERSION = 1
_KEPT = ("test_scores", "train_scores", "n_test_samples", "fit_time", "score_time", "fit_error")
"""What a candidate's per-split results keep (``_fit_and_score``'s output, less the
estimator and parameters)."""


class BayesSearchCV(BaseSearchCV):
    """Bayesian optimisation over hyperparameters with cross-validation.

    A drop-in for ``sklearn.model_selection.RandomizedSearchCV``: the same fitting,
    scoring, refitting and ``cv_results_``, with candidates proposed by a
    ``bayesopt.Optimizer`` (GP-based) from the scores of the candidates before them.

    Args:
        estimator: the estimator (or ``Pipeline``) to tune; cloned, never fitted itself.
        search_spaces: a ``bayesopt.Space``, or a dict ``{name: bo.Real | bo.Integer |
            bo.Categorical}`` (nested names such as ``"svc__C"`` work as with
            ``set_params``), or a list of those for several sub-spaces searched one after
            the other, each by its own optimiser for ``n_iter`` candidates; an entry may be
            a pair ``(space, n)`` to give that sub-space ``n`` candidates instead.
        n_iter: candidates evaluated per sub-space by each ``fit`` (``>= 1``).
        scoring: as for ``RandomizedSearchCV``: ``None`` (the estimator's ``score``), a
            scorer name, a callable, or a list, tuple or dict of several (then ``refit``
            names the metric the optimiser maximises).
        n_jobs: parallel jobs of the cross-validation fits (joblib); ``None`` is one.
        n_points: candidates asked per round, as one batch (``opt.ask(n_points)``) whose
            ``n_points x n_splits`` fits run in parallel. More points per round use more
            jobs at once but give the model fewer updates.
        refit: refit the best candidate on the whole data (``best_estimator_``). With
            several metrics, the name of the metric that picks the best candidate and that
            the optimiser maximises. A callable picks ``best_index_`` from ``cv_results_``
            (single metric only: the optimiser maximises the one score).
        cv: as for ``RandomizedSearchCV`` (``None`` is 5-fold). A splitter that shuffles
            needs a fixed ``random_state``, or rounds see different splits.
        verbose: verbosity of scikit-learn's fitting messages.
        pre_dispatch: how many jobs joblib dispatches ahead (as for ``RandomizedSearchCV``).
        random_state: seeds the optimisers: an int ``>= 0`` (the same int and the same
            scores give the same candidates), a ``numpy.random.RandomState`` (one seed is
            drawn from it per ``fit``), or ``None`` (fresh entropy; with a storage, the
            stored study's seed). Seeds only the search: seed the estimator and ``cv``
            yourself.
        error_score: score of a fit that raised (``np.nan``: told as a failure), or
            ``"raise"``.
        return_train_score: also record training scores in ``cv_results_``.
        storage: journal the study and resume it on a later ``fit`` (see the module
            docstring for exactly what is resumed): a path or a ``bayesopt.Storage``;
            with several sub-spaces, sub-space ``i`` uses ``<stem>-<i><suffix>``
            (``search.jsonl`` gives ``search-0.jsonl``, ...), or pass a list of one path or
            ``Storage`` per sub-space.
        optimizer_kwargs: further arguments of ``bayesopt.Optimizer`` (``acquisition``,
            ``n_initial``, ``model_options``...); ``space``, ``seed``, ``maximize`` and
            ``storage`` are set by the search.

    Attributes:
        cv_results_: dict of numpy (masked) arrays, in ``RandomizedSearchCV``'s format;
            with a storage, restored candidates come first.
        best_estimator_: as for ``RandomizedSearchCV``, and so are ``best_score_``,
            ``best_params_``, ``best_index_``, ``scorer_``, ``n_splits_``, ``refit_time_``
            and ``multimetric_``.
        optimizers_: the ``bayesopt.Optimizer`` of each sub-space, for inspection
            (``trials``, ``best``, ``bo.importance``); a journalled one is closed after
            ``fit`` and reads as a snapshot.
        optimizer_: the optimiser of the sub-space holding the best trial (the only one
            with a single space).

    Example:
        >>> import bayesopt as bo
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.linear_model import LogisticRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> search = BayesSearchCV(
        ...     LogisticRegression(max_iter=500), {"C": bo.Real(1e-3, 1e3, log=True)},
        ...     n_iter=6, cv=3, random_state=0,
        ... ).fit(X, y)
        >>> sorted(search.best_params_), search.optimizer_.maximize
        (['C'], True)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseSearchCV._parameter_constraints,
        # Checked by BayesSearchCV itself, with messages that name the broken rule.
        **dict.fromkeys(
            ("search_spaces", "n_iter", "n_points", "random_state", "storage", "optimizer_kwargs"),
            "no_validation",
        ),
    }

    def __init__(
        self,
        estimator: Any,
        search_spaces: Any,
        *,
        n_iter: int = 50,
        scoring: Any = None,
        n_jobs: int | None = None,
        n_points: int = 1,
        refit: bool | str | Callable = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: int | str = "2*n_jobs",
        random_state: int | np.random.RandomState | None = None,
        error_score: float | str = np.nan,
        return_train_score: bool = False,
        storage: str | os.PathLike | bo.Storage | Sequence[Any] | None = None,
        optimizer_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.search_spaces = search_spaces
        self.n_iter = n_iter
        self.n_points = n_points
        self.random_state = random_state
        self.storage = storage
        self.optimizer_kwargs = optimizer_kwargs
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )

    # Fitting ------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **params: Any) -> BayesSearchCV:
        """Search: ``n_iter`` cross-validated candidates per sub-space, then refit the best.

        Args:
            X: training data, ``n_samples x n_features`` (anything the estimator takes).
            y: targets, or ``None``.
            **params: passed on as by ``RandomizedSearchCV.fit`` (fit parameters, ``groups``
                for the splitter, metadata routed to the scorer).

        Returns:
            ``self``, fitted.

        Raises:
            TypeError, ValueError: an invalid setting (the message names it and the broken
                rule), checked before any fit, or a storage that holds another search.
        """
        if hasattr(self, "_validate_params"):
            self._validate_params()  # scikit-learn's own parameters, before anything runs
        search = _Search.open(self, X, y, params)
        self._search = search
        try:
            super().fit(X, y, **params)
        finally:
            del self._search
            search.close()
        if len(self.cv_results_["params"]) != len(search.records):
            # The last rounds all failed: their rows are not in scikit-learn's last results.
            # They rank last, so best_index_ and the refit stand.
            self.cv_results_ = self._all_results(search)
        self.optimizers_ = [sub.opt for sub in search.subs]
        self.optimizer_ = _best_optimizer(self.optimizers_)
        return self

    def _run_search(self, evaluate_candidates: Callable, *, callback_ctx: Any = None) -> None:
        """Ask, cross-validate and tell, round by round, sub-space by sub-space."""
        search: _Search = self._search
        task = None
        if callback_ctx is not None:  # scikit-learn's callbacks (1.9+)
            task = callback_ctx.subcontext(task_name="search", max_subtasks=None)
            task.call_on_fit_task_begin(estimator=self)
        failure: ValueError | None = None
        succeeded = stop = False
        for sub in search.subs:
            remaining = sub.n_iter
            while remaining > 0 and not stop:
                k = min(self.n_points, remaining)
                batch, sub.claimed = sub.claimed[:k], sub.claimed[k:]
                if len(batch) < k:
                    batch += sub.opt.ask(k - len(batch))
                remaining -= k
                kwargs = {}
                if task is not None:
                    kwargs["callback_ctx"] = task.subcontext(
                        task_name="round",
                        max_subtasks=k * self.n_splits_,
                        sequential_subtasks=False,
                    ).call_on_fit_task_begin(estimator=self)
                params = [t.params for t in batch]
                try:
                    results = evaluate_candidates(params, **kwargs)
                except ValueError as exc:
                    if self.error_score == "raise" or not _all_fits_failed(exc):
                        raise
                    failure = exc
                    search.fail_round(sub, batch, _last_line(str(exc)), self.n_splits_)
                else:
                    succeeded = True
                    search.finish_round(sub, batch, _told_key(self.refit, results), results)
                if task is not None:
                    stop = bool(kwargs["callback_ctx"].call_on_fit_task_end(estimator=self))
        if task is not None:
            task.call_on_fit_task_end(estimator=self)
        if not succeeded:
            assert failure is not None
            raise failure

    def _format_results(
        self, candidate_params: list, n_splits: int, out: list, more_results: Any = None
    ) -> dict[str, Any]:
        """``cv_results_`` of every candidate: restored ones first, then this fit's rounds
        (including the rounds whose every fit failed, which scikit-learn drops)."""
        search: _Search | None = getattr(self, "_search", None)
        if search is None or more_results:
            return super()._format_results(candidate_params, n_splits, out, more_results)
        search.collect(candidate_params[search.seen :], out[search.seen * n_splits :], n_splits)
        search.seen = len(candidate_params)
        return self._all_results(search)

    def __getstate__(self) -> dict[str, Any]:
        """What pickling keeps: all but the state of a fit in progress (scikit-learn sends
        the search to joblib's workers, which need none of it)."""
        state = dict(super().__getstate__())
        state.pop("_search", None)
        return state

    def _all_results(self, search: _Search) -> dict[str, Any]:
        params, out = search.materialise()
        return super()._format_results(params, search.n_splits, out)


# One fit's state ----------------------------------------------------------------------------
@dataclasses.dataclass
class _Failed:
    """A candidate of a round whose every fit failed: no per-split results exist."""

    error: str


@dataclasses.dataclass
class _Sub:
    """One sub-space of a fit: its optimiser, its results log and trials to evaluate first."""

    opt: bo.Optimizer
    n_iter: int
    log: _CVLog | None
    claimed: list[bo.Trial]


@dataclasses.dataclass
class _Search:
    """What one ``fit`` knows beyond scikit-learn: optimisers and every candidate's rows."""

    subs: list[_Sub]
    n_splits: int
    error_score: float
    records: list[tuple[dict[str, Any], list[dict[str, Any]] | _Failed]]
    seen: int = 0

    @classmethod
    def open(cls, search: BayesSearchCV, X: Any, y: Any, params: Mapping[str, Any]) -> _Search:
        """Check every setting, then build (or resume) the optimisers; nothing before the
        checks changes any state."""
        spaces = _sub_spaces(search.search_spaces, _check_count("n_iter", search.n_iter))
        _check_count("n_points", search.n_points)
        for i, (space, _) in enumerate(spaces):
            _check_names(search.estimator, space, _where(search.search_spaces, i))
        kwargs = _check_optimizer_kwargs(search.optimizer_kwargs)
        storages = _storages(search.storage, len(spaces))
        seed = _check_random_state(search.random_state, journalled=storages[0] is not None)
        _check_refit(search.scoring, search.refit)
        n_splits, header = 0, None
        if storages[0] is not None:
            cv = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
            n_splits = cv.get_n_splits(X, y, groups=params.get("groups"))
            header = _header(search, X, y, n_splits)
        subs: list[_Sub] = []
        records: list[tuple[dict[str, Any], list[dict[str, Any]] | _Failed]] = []
        try:
            for i, ((space, n_iter), storage) in enumerate(zip(spaces, storages, strict=True)):
                sub_seed = seed if seed is None or i == 0 else _derive(seed, i)
                opt = bo.Optimizer(space, seed=sub_seed, maximize=True, storage=storage, **kwargs)
                sub = _Sub(opt, n_iter, None, [])
                subs.append(sub)
                if storage is not None:
                    assert header is not None
                    sub.log, restored = _CVLog.open(_log_path(storage), header, opt)
                    records += restored
                    sub.claimed = _claim(opt)
        except BaseException:
            for sub in subs:
                sub.opt.close()
            raise
        error_score = math.nan if search.error_score == "raise" else float(search.error_score)
        return cls(subs, n_splits, error_score, records)

    def collect(self, params: list[dict[str, Any]], out: list[dict[str, Any]], n: int) -> None:
        """Add the candidates scikit-learn evaluated since the last call."""
        self.n_splits = n
        for j, p in enumerate(params):
            self.records.append((p, [_plain(e) for e in out[j * n : (j + 1) * n]]))

    def finish_round(
        self, sub: _Sub, batch: list[bo.Trial], key: str, results: Mapping[str, Any]
    ) -> None:
        """Log and tell the candidates of a round that scikit-learn evaluated."""
        means = np.asarray(results[key], dtype=float)[-len(batch) :]
        rows = self.records[-len(batch) :]
        for trial, (_, splits), mean in zip(batch, rows, means, strict=True):
            if sub.log is not None:
                sub.log.append(trial, splits)
            if math.isfinite(mean):
                sub.opt.tell(trial, float(mean))
            else:
                sub.opt.tell(trial, error=_failure(splits, key, mean))

    def fail_round(self, sub: _Sub, batch: list[bo.Trial], error: str, n_splits: int) -> None:
        """Record and tell a round whose every fit failed (its score is ``error_score``)."""
        self.n_splits = n_splits
        for trial in batch:
            self.records.append((trial.params, _Failed(error)))
            if sub.log is not None:
                sub.log.append(trial, _Failed(error))
            if math.isfinite(self.error_score):
                sub.opt.tell(trial, self.error_score)
            else:
                sub.opt.tell(trial, error=f"{n_splits} of {n_splits} fits failed: {error}")

    def materialise(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Candidate params and per-split results in ``_format_results``' layout, failed
        rounds filled in from the first real row (its keys and metric names)."""
        template = next((r for _, r in self.records if not isinstance(r, _Failed)), None)
        assert template is not None, "called once a round succeeded"
        params, out = [], []
        for p, rows in self.records:
            params.append(p)
            if isinstance(rows, _Failed):
                rows = _failed_rows(template[0], rows.error, self.error_score, self.n_splits)
            out += rows
        return params, out

    def close(self) -> None:
        for sub in self.subs:
            sub.opt.close()


def _failed_rows(
    template: dict[str, Any], error: str, score: float, n_splits: int
) -> list[dict[str, Any]]:
    """Per-split results of a candidate whose every fit failed, shaped like ``template``
    (one split of a real candidate): ``score`` for every score, NaN times."""
    row = dict(template)
    row |= {"fit_time": math.nan, "score_time": math.nan, "fit_error": error}
    for key in ("test_scores", "train_scores"):
        if key in template:
            like = template[key]
            row[key] = dict.fromkeys(like, score) if isinstance(like, dict) else score
    return [dict(row) for _ in range(n_splits)]


# The cross-validation results beside a journal ----------------------------------------------
class _CVLog:
    """``<journal>.cv.jsonl``: a header line, then one line per finished candidate.

    A line is ``{"id": trial id, "params": the params as JSON, "splits": [per-split
    results]}``, or ``"failed": error`` for a candidate whose every fit failed. It is written
    before the optimiser is told, so a told trial always has its line; a later line of the
    same id (a pending trial evaluated again after a crash) wins.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def open(
        cls, path: str, header: dict[str, Any], opt: bo.Optimizer
    ) -> tuple[_CVLog, list[tuple[dict[str, Any], Any]]]:
        """Check the log against this fit's settings and the study; return the restored
        candidates of the study, in trial order."""
        log = cls(path)
        trials = opt.trials
        lines = _read_lines(path) if os.path.exists(path) else []
        if not any(t.state != bo.TrialState.PENDING for t in trials):
            log._write_header(header)  # a new study: a log left from an old one is stale
            return log, []
        if not lines:
            log._write_header(header)
            stored: dict[int, dict[str, Any]] = {}
        else:
            _check_header(lines[0], header, path)
            stored = {int(row["id"]): row for row in lines[1:]}
        restored, missing = [], 0
        for t in trials:
            if t.state == bo.TrialState.PENDING:
                continue
            row = stored.get(t.id)
            if row is None:
                missing += 1
                continue
            if row.get("params") != _params_key(t.params):
                raise ValueError(
                    f"{path} does not belong to the study in its journal: trial {t.id} has "
                    f"params {t.params!r} there. Remove the file or use another storage."
                )
            splits = row.get("splits")
            restored.append((t.params, _Failed(row["failed"]) if splits is None else splits))
        if missing:
            warnings.warn(
                f"{missing} finished trial(s) of the study have no cross-validation results "
                f"in {path}: the optimiser learns from them, but cv_results_ leaves them out.",
                UserWarning,
                stacklevel=4,
            )
        return log, restored

    def append(self, trial: bo.Trial, splits: list[dict[str, Any]] | _Failed) -> None:
        row: dict[str, Any] = {"id": trial.id, "params": _params_key(trial.params)}
        if isinstance(splits, _Failed):
            row["failed"] = splits.error
        else:
            row["splits"] = splits
        self._write(json.dumps(row, separators=(",", ":")) + "\n", "a")

    def _write_header(self, header: dict[str, Any]) -> None:
        self._write(json.dumps(header, separators=(",", ":")) + "\n", "w")

    def _write(self, text: str, mode: str) -> None:
        _cut_torn_tail(self.path)
        with open(self.path, mode, encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


def _read_lines(path: str) -> list[dict[str, Any]]:
    """The log's lines as dicts; a torn last line (a crash mid-write) is skipped."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    lines = text.split("\n")
    torn = lines.pop()  # "" when the file ends with a newline
    del torn
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise ValueError(f"{path}, line {number}: not a JSON line ({exc}).") from exc
    return out


def _cut_torn_tail(path: str) -> None:
    """Cut a last line without its newline, so that new lines never glue onto it."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        fh.seek(0)
        data = fh.read()
        fh.seek(data.rfind(b"\n") + 1)
        fh.truncate()


def _header(search: BayesSearchCV, X: Any, y: Any, n_splits: int) -> dict[str, Any]:
    """What the cross-validation results of a storage depend on."""
    estimator = type(search.estimator)
    return {
        "format": _CV_FORMAT,
        "version": _CV_VERSION,
        "data": joblib.hash((X, y)),
        "n_splits": int(n_splits),
        "scoring": _scoring_key(search.scoring),
        "return_train_score": bool(search.return_train_score),
        "estimator": f"{estimator.__module__}.{estimator.__qualname__}",
    }


def _check_header(stored: dict[str, Any], mine: dict[str, Any], path: str) -> None:
    if stored.get("format") != _CV_FORMAT:
        raise ValueError(f"{path} is not a BayesSearchCV results log (no {_CV_FORMAT} header).")
    names = {"data": "the data (a hash of X and y)", "n_splits": "the number of CV splits"}
    diff = [
        f"{names.get(k, k)}: {stored.get(k)!r} there, {v!r} here"
        for k, v in mine.items()
        if stored.get(k) != v
    ]
    if diff:
        raise ValueError(
            f"the storage's cross-validation results ({path}) were made with other settings ("
            + "; ".join(diff)
            + "). Resume with the same data and settings, or use another storage."
        )


def _log_path(storage: bo.Storage) -> str:
    return os.path.realpath(os.fspath(storage.path)) + ".cv.jsonl"


def _claim(opt: bo.Optimizer) -> list[bo.Trial]:
    """Pending trials of the study whose process died or closed: evaluated first."""
    claimed = []
    while (trial := opt.next_trial(len(opt.trials))) is not None:
        claimed.append(trial)
    return claimed


# Checks -------------------------------------------------------------------------------------
def _check_count(name: str, value: object) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an int, but got {value!r}.")
    if value < 1:
        raise ValueError(f"`{name} >= 1` must hold, but got {name}={value}.")
    return int(value)


def _as_space(spec: object, where: str) -> bo.Space:
    if isinstance(spec, bo.Space):
        return spec
    if not isinstance(spec, Mapping):
        raise TypeError(
            f"`search_spaces{where}` must be a bayesopt.Space or a dict of bayesopt "
            f"parameters, but got {type(spec).__name__}: {spec!r}."
        )
    if not spec:
        raise ValueError(f"`search_spaces{where}` must name at least one parameter, but is empty.")
    for name, p in spec.items():
        if not isinstance(name, str):
            raise TypeError(f"`search_spaces{where}`: names must be str, but got {name!r}.")
        if not isinstance(p, bo.Real | bo.Integer | bo.Categorical):
            raise TypeError(
                f"`search_spaces{where}`: {name!r} must be a bayesopt.Real, Integer or "
                f"Categorical, but got {p!r} (wrap a list of choices in bo.Categorical)."
            )
    return bo.Space(spec)


def _sub_spaces(spec: object, n_iter: int) -> list[tuple[bo.Space, int]]:
    """``[(space, n_iter)]``, one per sub-space."""
    if isinstance(spec, bo.Space | Mapping):
        return [(_as_space(spec, ""), n_iter)]
    if not isinstance(spec, list):
        raise TypeError(
            "`search_spaces` must be a bayesopt.Space, a dict of bayesopt parameters, or a "
            f"list of them, but got {type(spec).__name__}: {spec!r}."
        )
    if not spec:
        raise ValueError("`search_spaces` must hold at least one sub-space, but is an empty list.")
    out = []
    for i, entry in enumerate(spec):
        space, n = entry, n_iter
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise TypeError(
                    f"`search_spaces[{i}]` must be a space or a pair (space, n_iter), but got "
                    f"a tuple of {len(entry)}."
                )
            space, n = entry[0], _check_count(f"search_spaces[{i}][1]", entry[1])
        out.append((_as_space(space, f"[{i}]"), n))
    return out


def _where(spec: object, i: int) -> str:
    return f"[{i}]" if isinstance(spec, list) else ""


def _check_names(estimator: Any, space: bo.Space, where: str) -> None:
    """Every name must be a parameter of the estimator (``get_params(deep=True)``), or of
    an estimator that another parameter of the space chooses (``"clf__C"`` with ``"clf"``
    searched)."""
    valid = set(estimator.get_params(deep=True))
    for name in space.names:
        parts = name.split("__")
        prefixes = ("__".join(parts[:j]) for j in range(1, len(parts)))
        if name in valid or any(p in space for p in prefixes):
            continue
        close = difflib.get_close_matches(name, sorted(valid), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"`search_spaces{where}`: {name!r} is not a parameter of "
            f"{type(estimator).__name__}.{hint} Valid names are those of "
            "estimator.get_params(deep=True)."
        )


def _check_optimizer_kwargs(kwargs: object) -> dict[str, Any]:
    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping):
        raise TypeError(f"`optimizer_kwargs` must be a dict or None, but got {kwargs!r}.")
    taken = sorted(k for k in kwargs if k in _RESERVED)
    if taken:
        raise ValueError(
            f"`optimizer_kwargs` must not set {taken}: BayesSearchCV sets space, seed "
            "(from random_state), maximize and storage itself."
        )
    return dict(kwargs)


def _storages(storage: object, n: int) -> list[bo.Storage | None]:
    if storage is None:
        return [None] * n
    if isinstance(storage, list | tuple):
        if len(storage) != n:
            raise ValueError(
                f"`storage` must hold one path per sub-space ({n}), but holds {len(storage)}."
            )
        return [_one_storage(s, f"storage[{i}]") for i, s in enumerate(storage)]
    one = _one_storage(storage, "storage")
    if n == 1:
        return [one]
    root, ext = os.path.splitext(os.fspath(one.path))
    return [dataclasses.replace(one, path=f"{root}-{i}{ext}") for i in range(n)]


def _one_storage(storage: object, name: str) -> bo.Storage:
    if isinstance(storage, bo.Storage):
        return storage
    if isinstance(storage, str | os.PathLike) and os.fspath(storage):
        return bo.Storage(os.fspath(storage))
    raise TypeError(
        f"`{name}` must be a non-empty path or a bayesopt.Storage, but got {storage!r}."
    )


def _check_random_state(random_state: object, *, journalled: bool) -> int | None:
    """The optimisers' seed: an int, ``None``, or one drawn from a ``RandomState``."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"`random_state >= 0` must hold, but got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        if journalled:
            raise ValueError(
                "with `storage`, `random_state` must be an int or None (a RandomState gives "
                "another seed every fit, and a resumed study keeps its seed)."
            )
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise TypeError(
        "`random_state` must be an int, a numpy.random.RandomState or None, but got "
        f"{random_state!r}."
    )


def _check_refit(scoring: object, refit: object) -> None:
    if isinstance(scoring, list | tuple | dict) and not isinstance(refit, str):
        names = sorted(scoring) if isinstance(scoring, dict) else list(scoring)
        raise ValueError(
            "with several metrics, `refit` must name the metric the optimiser maximises "
            f"(one of {names}), but got refit={refit!r}."
        )


def _derive(seed: int, i: int) -> int:
    """The seed of sub-space ``i >= 1``."""
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0])


# Small functions ----------------------------------------------------------------------------
def _told_key(refit: object, results: Mapping[str, Any]) -> str:
    """The ``cv_results_`` column the optimiser is told: the refit metric's mean."""
    if isinstance(refit, str) and f"mean_test_{refit}" in results:
        return f"mean_test_{refit}"
    if "mean_test_score" in results:
        return "mean_test_score"
    metrics = sorted(k.removeprefix("mean_test_") for k in results if k.startswith("mean_test_"))
    raise ValueError(
        "the scoring callable returns several metrics: `refit` must name the one the "
        f"optimiser maximises (one of {metrics}), but got refit={refit!r}."
    )


def _all_fits_failed(exc: ValueError) -> bool:
    """Whether ``exc`` is scikit-learn's "All the N fits failed" of one round."""
    text = str(exc).lstrip()
    return text.startswith("All the ") and "fits failed" in text.split("\n", 1)[0]


def _last_line(text: str) -> str:
    """The last non-empty line of an error report: the exception of the last traceback."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _failure(splits: list[dict[str, Any]], key: str, mean: float) -> str:
    """Why a candidate's mean score is not finite, for the failed trial's ``error``."""
    errors = [s.get("fit_error") for s in splits if s.get("fit_error")]
    if errors:
        return f"{len(errors)} of {len(splits)} fits failed: {_last_line(errors[0])}"
    return f"{key} is {mean!r}"


def _plain(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One split's results with plain Python values (JSON-able), keys as in ``_KEPT``."""
    return {k: _plain_value(entry[k]) for k in _KEPT if k in entry}


def _plain_value(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _plain_value(v) for k, v in x.items()}
    if x is None or isinstance(x, str | bool):
        return x
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"a cross-validation result must be a number, str or dict, got {x!r}.")


def _params_key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=repr)


def _scoring_key(scoring: object) -> Any:
    if scoring is None or isinstance(scoring, str):
        return scoring
    if isinstance(scoring, dict):
        return sorted(scoring)
    if isinstance(scoring, list | tuple):
        return sorted(map(str, scoring))
    return "callable"


def _best_optimizer(opts: list[bo.Optimizer]) -> bo.Optimizer:
    """The optimiser holding the best complete trial (the first when none has one)."""
    scored = [(o.best.value, -i) for i, o in enumerate(opts) if o.best is not None]
    return opts[-max(scored)[1]] if scored else opts[0]
