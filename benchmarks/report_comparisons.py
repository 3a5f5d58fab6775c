"""The report's paired comparisons, with Holm's correction and the tuning / report split.

A *family* is one pair of contenders over every problem of the report on which both ran
(e.g. bayesopt against random-2x over 15 problems). Each problem gives one paired Wilcoxon
test across seeds; Holm's step-down correction is applied within the family. Tables show
the raw verdicts (p < 0.05 alone) beside the corrected ones, and count report-set and
tuning-set problems (``presets.REPORT_SET``, ``presets.TUNING_SET``) apart.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from benchmarks import contenders, presets
from benchmarks.results_table import ProblemResults, Results
from benchmarks.stats import ALPHA, Comparison, Outcome, compare, holm_outcomes, min_attainable_p

__all__ = ["Family", "family", "is_tuning", "split", "tagged"]

BASELINES = ("random", "random-2x")
SYMBOL = {Outcome.WIN: "+", Outcome.TIE: "=", Outcome.LOSS: "−"}
QUESTIONS = (
    ("random", "Does bayesopt beat random search with the same budget?"),
    ("random-2x", "Does it beat random search with twice the budget?"),
    ("sobol", "Does it beat a scrambled Sobol sequence?"),
    ("optuna-tpe", "Does it beat Optuna's TPE?"),
    ("optuna-gp", "Does it beat Optuna's GP sampler?"),
    ("skopt-gp", "Does it beat scikit-optimize's GP?"),
)


def is_tuning(pr: ProblemResults) -> bool:
    """Whether the problem is in the tuning set (bayesopt's default was chosen on it)."""
    return pr.problem.name in presets.TUNING_SET


def tagged(pr: ProblemResults) -> str:
    """The problem's label, with ``(tuning)`` after it for a tuning-set problem and
    ``(saturated)`` for a task that cannot separate its contenders."""
    marks = [m for m, on in (("tuning", is_tuning(pr)), ("saturated", pr.saturated)) if on]
    return pr.label + "".join(f" ({m})" for m in marks)


def split(res: Results) -> tuple[list[str], list[str]]:
    """Labels of the report-set problems and of the tuning-set problems of ``res``."""
    tuning = [label for label, pr in res.problems.items() if is_tuning(pr)]
    return [label for label in res.problems if label not in tuning], tuning


@dataclass(frozen=True)
class Family:
    """Contender ``a`` against ``b`` on every problem both ran on.

    Attributes:
        a: the contender whose side the outcomes take.
        b: the other contender.
        raw: ``{problem label: comparison}``, each at p < 0.05 on its own.
        holm: ``{problem label: outcome}`` after Holm's correction over the family.
    """

    a: str
    b: str
    raw: dict[str, Comparison]
    holm: dict[str, Outcome]

    def outcomes(self, corrected: bool, labels: Collection[str] | None = None) -> Counter:
        """Counts of each outcome, over ``labels`` (default: the whole family)."""
        keys = [k for k in self.raw if labels is None or k in labels]
        return Counter(self.holm[k] if corrected else self.raw[k].outcome for k in keys)

    def wtl(self, corrected: bool, labels: Collection[str] | None = None) -> str:
        """``"w/t/l"`` over ``labels``; ``–`` when the pair shares none of them."""
        if not any(labels is None or k in labels for k in self.raw):
            return "–"
        c = self.outcomes(corrected, labels)
        return f"{c[Outcome.WIN]}/{c[Outcome.TIE]}/{c[Outcome.LOSS]}"

    def symbol(self, label: str) -> str:
        """``+``, ``=`` or ``−`` after Holm; ``+*`` / ``−*``: significant only uncorrected."""
        raw, corrected = self.raw[label].outcome, self.holm[label]
        return SYMBOL[raw] + ("*" if raw is not corrected else "")

    def listing(self, outcome: Outcome, labels: Collection[str]) -> tuple[list[str], list[str]]:
        """Problems among ``labels`` with ``outcome`` after Holm, and with it only raw."""
        keys = [k for k in self.raw if k in labels]
        holm = sorted(k for k in keys if self.holm[k] is outcome)
        raw_only = sorted(k for k in keys if self.raw[k].outcome is outcome and k not in holm)
        return holm, raw_only


def family(res: Results, a: str, b: str) -> Family:
    """The family of ``a`` against ``b`` over the problems of ``res`` where both ran."""
    raw = {}
    for label, pr in res.problems.items():
        if a in pr.final and b in pr.final and a != b:
            x, y = pr.paired(a, b)
            if x:
                raw[label] = compare(x, y)
    return Family(a, b, raw, holm_outcomes(raw))


def _fmt(x: float, digits: int = 2) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def _n_problems(n: int) -> str:
    return f"{n} problem" + ("" if n == 1 else "s")


def _bayesopt_names(names: list[str]) -> list[str]:
    return [n for n in names if contenders.get(n).family == "bayesopt"]


def _others(names: list[str]) -> list[str]:
    return [n for n in names if contenders.get(n).family != "bayesopt"]


def _holm_caution(res: Results) -> list[str]:
    """A warning when Holm's correction cannot reject anything with these seeds."""
    n_seeds = max((len(v) for pr in res.problems.values() for v in pr.final.values()), default=0)
    m = len(res.problems)
    if not n_seeds or min_attainable_p(n_seeds) <= ALPHA / max(m, 1):
        return []
    return [
        f"**Caution:** with {n_seeds} seeds the smallest attainable p is "
        f"{min_attainable_p(n_seeds):.3f}, above Holm's first threshold {ALPHA}/{m} = "
        f"{ALPHA / m:.4f} over {m} problems: no comparison can stay significant after the "
        "correction.",
        "",
    ]


# Sections ---------------------------------------------------------------------------------
def answers(res: Results, rank_lines: list[str]) -> list[str]:
    """``## Answers``: the headline table (report set first) and the plain answers."""
    report, tuning = split(res)
    out = [
        "## Answers",
        "",
        f"The headline is the **report set** ({len(report)} problems, never used to choose a "
        f"default); *all problems* adds the {len(tuning)} of the tuning set, where bayesopt's "
        "results are in-sample. "
        "Win/tie/loss counts over problems: paired two-sided Wilcoxon signed-rank test across "
        f"seeds. *Raw*: p < {ALPHA} on its own. *Holm*: after Holm's correction within the "
        "family of that pair of contenders, i.e. over every problem of this report on which "
        f"both ran ({len(res.problems)} for most pairs), at family-wise error rate {ALPHA}. "
        "Lower regret / higher normalised score is better.",
        "",
        *_holm_caution(res),
        f"| comparison | report set ({len(report)}), Holm | report set, raw | "
        f"all problems ({len(res.problems)}), Holm | all problems, raw | problems (tuning) |",
        "|---|---|---|---|---|---|",
    ]
    for b in _bayesopt_names(res.contenders):
        for o in _others(res.contenders):
            fam = family(res, b, o)
            if not fam.raw:
                continue
            n_tuning = sum(k in tuning for k in fam.raw)
            out.append(
                f"| {b} vs {o} | {fam.wtl(True, report)} | {fam.wtl(False, report)} | "
                f"{fam.wtl(True)} | {fam.wtl(False)} | {len(fam.raw)} ({n_tuning}) |"
            )
    return [*out, "", *_plain_answers(res, report), *rank_lines, ""]


def _count_text(fam: Family, outcome: Outcome, labels: list[str]) -> str:
    holm, raw_only = fam.listing(outcome, labels)
    text = f"{len(holm)} after Holm ({len(holm) + len(raw_only)} raw)"
    named = [*holm, *(f"{k}*" for k in raw_only)]
    return text + (f": {', '.join(named)}" if named and len(named) <= 8 else "")


def _plain_answers(res: Results, report: list[str]) -> list[str]:
    if "bayesopt" not in res.contenders:
        return []
    lines = []
    for other, question in QUESTIONS:
        fam = family(res, "bayesopt", other)
        if not fam.raw:
            continue
        parts = []
        for report_set, labels in ((True, report), (False, list(fam.raw))):
            labels = [k for k in labels if k in fam.raw]
            if not labels:
                continue
            ties = fam.outcomes(True, labels)[Outcome.TIE]
            n = _n_problems(len(labels))
            where = f"the report set ({n})" if report_set else f"all {n}"
            where = where if report_set or len(labels) > 1 else "the one problem"
            parts.append(
                f"on {where}: better on "
                f"{_count_text(fam, Outcome.WIN, labels)}; worse on "
                f"{_count_text(fam, Outcome.LOSS, labels)}; no significant difference "
                f"after Holm on {ties}"
            )
        text = ". ".join(p[0].upper() + p[1:] for p in parts)
        lines.append(f"- **{question}** {text}.")
    if lines:
        lines += [
            "",
            "(`*`: significant at p < 0.05 on its own but not after Holm's correction.)",
            "",
        ]
    return lines


def losses(res: Results) -> list[str]:
    """``## Where bayesopt loses``: every raw loss (and whether Holm keeps it), every worse
    median without significance."""
    out = ["## Where bayesopt loses", ""]
    found = False
    for b in _bayesopt_names(res.contenders):
        for other in _others(res.contenders):
            fam = family(res, b, other)
            for label, comp in fam.raw.items():
                pr = res.problems[label]
                x, y = pr.paired(b, other)
                med_b, med_o = float(np.median(x)), float(np.median(y))
                digits = 2 if pr.has_optimum else 3
                values = (
                    f"median {pr.metric_name} {_fmt(pr.loss(med_b), digits)} vs "
                    f"{_fmt(pr.loss(med_o), digits)}"
                )
                if comp.outcome is Outcome.LOSS:
                    found = True
                    kept = (
                        "significant after Holm"
                        if fam.holm[label] is Outcome.LOSS
                        else "not significant after Holm"
                    )
                    out.append(
                        f"- **{b} loses to {other} on {tagged(pr)}** (p = {comp.p_value:.3g}, "
                        f"{comp.n_pairs} seeds, {kept} over {_n_problems(len(fam.raw))}; {values})."
                    )
                elif med_b > med_o and comp.outcome is Outcome.TIE:
                    out.append(
                        f"- {b} trails {other} on {tagged(pr)} without significance "
                        f"(p = {comp.p_value:.2g}; {values})."
                    )
    if not found:
        out[2:2] = ["No significant loss of any bayesopt contender, even before correction.", ""]
    return [*out, ""]


def baseline_tables(res: Results) -> list[str]:
    """``## Win / tie / loss against random search``: counts and the per-problem grid."""
    names = res.contenders
    base = [b for b in BASELINES if b in names]
    if not base:
        return []
    report, tuning = split(res)
    fams = {(n, b): family(res, n, b) for n in names for b in base}
    header = [f"vs {b}: report set, Holm | raw | all, Holm | raw" for b in base]
    out = [
        "## Win / tie / loss against random search",
        "",
        f"Counts over problems (Wilcoxon; *Holm*: corrected within each pair's family of "
        f"problems, *raw*: p < {ALPHA} alone). The report set ({len(report)} problems) is "
        f"the headline; *all* adds the {len(tuning)} tuning-set problems.",
        "",
        "| contender | " + " | ".join(header) + " |",
        "|---" * (4 * len(base) + 1) + "|",
    ]
    for n in names:
        cells = []
        for b in base:
            fam = fams[n, b]
            cells += [fam.wtl(True, report), fam.wtl(False, report)]
            cells += [fam.wtl(True), fam.wtl(False)]
        out.append(f"| {n} | " + " | ".join(cells) + " |")
    out += [
        "",
        "Per problem, report set first: `+` significantly better after Holm's correction, "
        "`=` no significant difference, `−` significantly worse; `+*` / `−*` significant at "
        "p < 0.05 on its own but not after the correction. First symbol vs "
        + " then vs ".join(base)
        + ". Tuning-set problems are marked (tuning).",
        "",
        "| problem | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for label in [*report, *tuning]:
        row = []
        for n in names:
            marks = [fams[n, b].symbol(label) for b in base if label in fams[n, b].raw]
            row.append(" ".join(marks) if marks else "·")
        out.append(f"| {tagged(res.problems[label])} | " + " | ".join(row) + " |")
    return [*out, ""]
