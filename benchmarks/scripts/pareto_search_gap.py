"""How much of the hypervolume improvement the acquisition search leaves on the table.

Runs bayesopt's default on a multi-objective problem and, every tenth ask from the 20th,
asks three copies of the study once each: with the narrower search used before
``propose.PARETO_SEARCH`` (512 raw points, 10 local searches), the same with the closed
form's value replaced by its Monte-Carlo estimate (qLogEHVI: the default before the closed
form) and the default (2048 raw points, 20 local searches). Each chosen point is scored by
the exact ``acquisition.LogEHVI`` of that ask, so the three searches are judged by one
yardstick.

Usage, from the repository root:
``python -m benchmarks.scripts.pareto_search_gap [--problem branincurrin] [--seed 0]
[--evaluations 100]``
"""

from __future__ import annotations

import argparse
import copy
import warnings

import torch

import bayesopt as bo
from bayesopt import acquisition
from bayesopt.optimizer import Optimizer
from benchmarks.problems.outcomes import problem
from benchmarks.scripts.outcomes_latency import monte_carlo_plug_in


def main(argv: list[str] | None = None) -> int:
    """Print the exact log EHVI of each search's choice at every tenth ask."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.pareto_search_gap")
    parser.add_argument("--problem", default="branincurrin")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--evaluations", type=int, default=100)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    prob = problem(args.problem)
    seen: dict[str, object] = {}
    maximize = Optimizer._maximize

    def spy(self, acqf, n, *rest, **kw):
        seen["acqf"], seen["U"] = acqf, maximize(self, acqf, n, *rest, **kw)
        return seen["U"]

    Optimizer._maximize = spy  # type: ignore[method-assign]
    # for_pareto() scales these to 512 raw points and 10 local searches, and the default's
    # to 2048 and 20.
    narrow = bo.ProposeOptions(raw_samples=128, n_restarts=5)
    default = bo.ProposeOptions()
    try:
        opt = bo.Optimizer(prob.space, objectives=dict(prob.objectives), seed=args.seed)
        print("ask  narrow  narrow-monte-carlo  default (exact log EHVI of each choice)")
        for i in range(args.evaluations):
            if i >= 20 and i % 10 == 0:
                picks = {}
                for name, options, mc in (
                    ("narrow", narrow, False), ("monte-carlo", narrow, True),
                    ("default", default, False),
                ):  # fmt: skip
                    study = copy.deepcopy(opt)
                    study.propose_options = options
                    if mc:
                        with monte_carlo_plug_in():
                            study.ask()
                    else:
                        study.ask()
                    picks[name] = seen["U"]
                    if name == "narrow":
                        exact = getattr(seen["acqf"], "inner", seen["acqf"])
                assert isinstance(exact, acquisition.LogEHVI)
                with torch.no_grad():
                    values = [float(exact(U[:, None])) for U in picks.values()]
                print(f"{i:3d}  " + "  ".join(f"{v:8.3f}" for v in values), flush=True)
            trial = opt.ask()
            opt.tell(trial, prob.fn(trial.params))
    finally:
        Optimizer._maximize = maximize  # type: ignore[method-assign]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
