"""The report's mean ranks: the field of contenders, the Friedman test and the Nemenyi
critical-difference diagram, on the report set (the headline) and on all problems.

The field holds distinct methods only: ``bayesopt`` (its default), the baselines and the
peers. Other configurations of bayesopt stay out: the factor study's variants belong to the
ablation report, and ``bayesopt-logei`` / ``bayesopt-ucb`` (bayesopt with another
acquisition) ran on two problems only, while a mean rank needs every contender on every
problem; several entries of one method would also crowd the other contenders' ranks.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmarks import contenders
from benchmarks.figures import plot_cd
from benchmarks.report_comparisons import split
from benchmarks.results_table import Results
from benchmarks.stats import ALPHA, Q_ALPHA_005, Friedman, cd_groups, friedman, nemenyi_cd

__all__ = ["RankSection", "rank_section"]


def _field(res: Results, labels: list[str]) -> tuple[list[str], list[str]]:
    """Distinct contenders with a finite median on every problem of ``labels``, and the
    contenders left out."""
    field, out = [], []
    for name in res.contenders:
        distinct = name == "bayesopt" or contenders.get(name).family != "bayesopt"
        complete = all(math.isfinite(_median(res, label, name)) for label in labels)
        (field if distinct and complete and labels else out).append(name)
    return field, out


def _median(res: Results, label: str, name: str) -> float:
    pr = res.problems[label]
    values = [pr.loss(v) for v in pr.final.get(name, {}).values() if math.isfinite(v)]
    return float(np.median(values)) if values else math.nan


def _test(res: Results, labels: list[str], field: list[str]) -> Friedman | None:
    if len(field) < 3 or len(labels) < 2:
        return None
    return friedman({label: {n: _median(res, label, n) for n in field} for label in labels})


class RankSection:
    """The mean-rank section's lines and the rank-based summary for the answers."""

    def __init__(self, res: Results, suite_dir: Path) -> None:
        """Compute the tests and write ``cd.png`` (report set) into ``suite_dir``."""
        self.res = res
        self.saturated = [label for label, pr in res.problems.items() if pr.saturated]
        report, tuning = ([k for k in labels if k not in self.saturated] for labels in split(res))
        ranked = [k for k in res.problems if k not in self.saturated]
        self.sets = {"report set": report, "all problems": ranked, "tuning set": tuning}
        self.field, self.left_out = _field(res, ranked)
        self.tests = {name: _test(res, labels, self.field) for name, labels in self.sets.items()}
        self.cd = {
            name: nemenyi_cd(len(self.field), len(self.sets[name]))
            for name, test in self.tests.items()
            if test is not None and len(self.field) in Q_ALPHA_005
        }
        self.figure: Path | None = None
        head = self.tests["report set"]
        if head is not None and "report set" in self.cd:
            self.figure = plot_cd(
                head.mean_ranks,
                self.cd["report set"],
                suite_dir / "cd.png",
                title=f"Report set: {len(report)} problems, Friedman p = {head.p_value:.2g}",
            )

    def summary(self) -> list[str]:
        """One bullet for the answers: mean ranks and Friedman p on the report set."""
        test = self.tests["report set"]
        if test is None:
            return []
        order = sorted(test.mean_ranks, key=test.mean_ranks.__getitem__)
        ranks = ", ".join(f"{n} {test.mean_ranks[n]:.2f}" for n in order)
        cd = self.cd.get("report set")
        apart = (
            f"; critical difference {cd:.2f}, exceeded by "
            f"{', '.join(self._apart('report set')) or 'no pair'}"
            if cd is not None
            else ""
        )
        return [
            f"- **Mean rank on the report set** ({test.n_problems} problems, median loss per "
            f"problem, 1 the best): {ranks}. Friedman test p = {test.p_value:.2g}{apart}."
        ]

    def _apart(self, name: str) -> list[str]:
        """Pairs of the field whose mean ranks on set ``name`` differ by more than the CD."""
        ranks = self.tests[name].mean_ranks
        order = sorted(ranks, key=ranks.__getitem__)
        return [
            f"{a} < {b}"
            for i, a in enumerate(order)
            for b in order[i + 1 :]
            if ranks[b] - ranks[a] > self.cd[name]
        ]

    def lines(self) -> list[str]:
        """``## Mean rank, Friedman test and critical difference``."""
        k = len(self.field)
        out = [
            "## Mean rank, Friedman test and critical difference",
            "",
            f"The field: {', '.join(self.field) or 'none'} (k = {k}), the distinct methods "
            "that ran on every problem. "
            + (f"Left out: {', '.join(self.left_out)}. " if self.left_out else "")
            + "Other configurations of bayesopt never enter it: the factor study's variants "
            "are compared in `results/ablation/REPORT.md`, and `bayesopt-logei` / "
            "`bayesopt-ucb` (another acquisition; the standard preset runs them on two "
            "problems only) stay out because a mean rank needs every contender on every "
            "problem and one method should not take several places in the field.",
            "",
            "Each contender is ranked per problem on its median loss over seeds (1 the best, "
            "ties share the mean rank), then ranks are averaged over problems. The Friedman "
            "test asks whether all contenders are equivalent (chi-square approximation, rough "
            "below about 10 problems; Iman and Davenport's F beside it). Two mean ranks "
            "differ significantly (Nemenyi, all pairs at once) when they differ by more than "
            f"the critical difference CD = q sqrt(k (k + 1) / (6 N)), q = "
            f"{Q_ALPHA_005.get(k, math.nan):.3f} for k = {k} at {ALPHA} (Demšar 2006).",
            "",
        ]
        if self.saturated:
            out += [
                f"Saturated tasks left out of the ranks: {', '.join(self.saturated)} (see "
                "*Saturated tasks*).",
                "",
            ]
        cols = [name for name, test in self.tests.items() if test is not None]
        if not cols:
            return [*out, "Too few problems or contenders for a rank test.", ""]
        heads = [f"{name} ({len(self.sets[name])})" for name in cols]
        out += ["| contender | " + " | ".join(heads) + " |", "|---" * (len(cols) + 1) + "|"]
        first = self.tests[cols[0]]
        for n in sorted(self.field, key=first.mean_ranks.__getitem__):
            out.append(
                f"| {n} | " + " | ".join(f"{self.tests[c].mean_ranks[n]:.2f}" for c in cols) + " |"
            )
        rows = {
            "Friedman chi² (p)": lambda t, c: f"{t.statistic:.1f} (p = {t.p_value:.2g})",
            "Iman-Davenport F (p)": lambda t, c: (
                f"{t.iman_davenport:.2f} (p = {t.iman_davenport_p:.2g})"
            ),
            "critical difference": lambda t, c: f"{self.cd[c]:.2f}" if c in self.cd else "n/a",
        }
        for title, cell in rows.items():
            out.append(f"| *{title}* | " + " | ".join(cell(self.tests[c], c) for c in cols) + " |")
        out += ["", *self._groups(cols)]
        if self.figure is not None:
            out += [
                "Critical-difference diagram of the report set: mean ranks on the axis "
                "(1, the best, at the left); a bar joins contenders whose ranks differ by "
                "no more than the CD.",
                "",
                f"![critical difference diagram]({self.figure.name})",
                "",
            ]
        return out

    def _groups(self, cols: list[str]) -> list[str]:
        out = []
        for c in cols:
            if c not in self.cd:
                continue
            groups = cd_groups(self.tests[c].mean_ranks, self.cd[c])
            text = "; ".join("{" + ", ".join(g) + "}" for g in groups) or "none"
            out.append(
                f"- {c[0].upper()}{c[1:]}: significant pairs (mean ranks further apart than "
                f"the CD): {', '.join(self._apart(c)) or 'none'}. Groups the CD does not "
                f"separate: {text}."
            )
        return [*out, ""] if out else []


def rank_section(res: Results, suite_dir: Path) -> RankSection:
    """Compute the rank tests of ``res`` and write ``cd.png`` into ``suite_dir``."""
    return RankSection(res, suite_dir)
