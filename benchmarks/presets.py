"""Named benchmark grids: ``quick``, ``standard``, ``full``, ``batch``, ``hard`` and more.

A preset is a union of blocks; each block crosses some problems with some contenders and
seeds. Blocks let the expensive contenders (the three bayesopt variants, at 0.3 to 1.5 s an
ask) run on fewer problems than the cheap ones. Ten seeds give the paired Wilcoxon test
a smallest attainable two-sided p of 0.002; with six seeds it is 0.031, with five 0.0625,
so five seeds or fewer can never show a significant difference at p < 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks import contenders, problems
from benchmarks.cell import Cell

__all__ = [
    "BATCH_CONTENDERS",
    "BATCH_PROBLEMS",
    "BATCH_Q",
    "BBOB_CONTENDERS",
    "BBOB_INSTANCES",
    "BBOB_REPORT_SET",
    "BBOB_SKIPPED",
    "HARD_CONTENDERS",
    "HARD_PROBLEMS",
    "REPORT_SET",
    "TUNING_SET",
    "Block",
    "Preset",
    "bbob_contenders",
    "get",
    "names",
]

BASELINES = ("random", "random-2x", "sobol")
PEERS = ("optuna-tpe", "optuna-gp", "skopt-gp")
BAYESOPT = ("bayesopt", "bayesopt-logei", "bayesopt-ucb")


@dataclass(frozen=True)
class Block:
    """Problems x contenders x seeds; ``budget`` overrides the problems' own budgets."""

    problems: tuple[str, ...]
    contenders: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: int | None = None

    def cells(self) -> list[Cell]:
        """The block's cells (problems and contenders are checked against the registries)."""
        out = []
        for name in self.problems:
            budget = self.budget or problems.get(name).budget
            for contender in self.contenders:
                contenders.get(contender)
                out += [Cell(name, contender, seed, budget) for seed in self.seeds]
        return out


@dataclass(frozen=True)
class Preset:
    """A named grid, with a description of what it contains and why."""

    name: str
    description: str
    blocks: tuple[Block, ...]

    def cells(self) -> list[Cell]:
        """All cells of all blocks, without duplicates."""
        return list(dict.fromkeys(c for b in self.blocks for c in b.cells()))


def _seeds(n: int) -> tuple[int, ...]:
    return tuple(range(n))


_STANDARD_SYNTHETIC = (
    "branin",
    "hartmann6",
    "ackley5",
    "rosenbrock4",
    "levy6",
    "branin-noisy",
    "hartmann6-noisy",
    "mixed-levy",
)
_STANDARD_ML = (
    "svr-diabetes",
    "enet-diabetes",
    "rf-wine",
    "gb-diabetes",
    "mlp-breast",
    "knn-digits",
    "logreg-breast",
)
_VARIANT_PROBLEMS = ("hartmann6", "svr-diabetes")
_ANCHORS = ("branin", "hartmann6", "ackley5", "rosenbrock4", "levy6")
_NOISY = ("branin-noisy", "hartmann6-noisy")


# The tuning set is the factor study's problems; the problems added since (Rosenbrock-10 and
# the layer-wise MLP of the hard preset) joined the report set: nothing was chosen on them.
TUNING_SET: tuple[str, ...] = (
    *_ANCHORS,
    *_NOISY,
    "mixed-levy",
    "rf-wine",
    "ackley10",
    "ackley20",
    "levy12",
)
"""Problems on which bayesopt's defaults may be chosen: those of the factor study (preset
``ablation``, ``results/ablation/CONCLUSIONS.md``), with seeds 0-9 unless stated there.
The current default was tuned on them: its model and output transform on the anchors, the
noisy pair and RF-wine, the discrete search on mixed Levy, the trust-region rule on
Ackley-10, Ackley-20 and Levy-12. Results of bayesopt on these problems are in-sample."""

REPORT_SET: tuple[str, ...] = tuple(p for p in problems.names() if p not in TUNING_SET)
"""Every other registered problem: never used to choose a default. Headline counts and
mean ranks use these only. The COCO BBOB problems (family ``bbob``) are not in it, nor in
``TUNING_SET``: ``problems.names()`` leaves them out, and they have their own sets below."""

BBOB_CONTENDERS = (
    "bayesopt",
    "random",
    "random-2x",
    "optuna-gp",
    "optuna-tpe",
    "cma-es",
    "hyperopt-tpe",
    "nevergrad-ngopt",
)
"""The contenders of preset ``bbob``, each with its default settings."""

BBOB_DIMS = (2, 5, 10, 20)
"""The dimensions of preset ``bbob``."""

BBOB_INSTANCES = {2: 15, 5: 10, 10: 10, 20: 3}
"""Report instances of preset ``bbob`` per dimension: seeds ``0 .. n - 1`` (COCO instances
1 to n); COCO's usual 15 where the runs are cheap enough (a d = 10 run of bayesopt takes
about 20 s of one core, of Optuna's GPSampler about 30 s, a d = 20 run of bayesopt about
two and a half minutes). Ten instances let a per-function Wilcoxon test survive Holm's
correction over 24 functions (the smallest two-sided p is 0.002); five could not."""

BBOB_SKIPPED = {20: ("optuna-gp",)}
"""Contenders of ``BBOB_CONTENDERS`` left out at a dimension, for their cost: an ask of
Optuna's GPSampler takes about 0.9 CPU-seconds already at d = 20 and n = 150 (preset
``hard``) and more as n grows, so a d = 20 run of 400 evaluations costs at least six
minutes and the 72 runs at least seven hours of one core."""


def bbob_contenders(dim: int) -> tuple[str, ...]:
    """The contenders of preset ``bbob`` at dimension ``dim``."""
    return tuple(c for c in BBOB_CONTENDERS if c not in BBOB_SKIPPED.get(dim, ()))


BBOB_REPORT_SET: tuple[str, ...] = tuple(
    p for p in problems.names("bbob") if int(p.rsplit("-d", 1)[1]) in BBOB_DIMS
)
"""The BBOB problems of preset ``bbob``. A BBOB problem's seed picks the COCO instance
(instance = seed + 1): report runs use seeds 0-14 (instances 1-15), and nothing is ever
chosen on them; defaults may only be tuned on seeds 100 and up (instances 101+)."""


BATCH_Q = (4, 8)
"""Points per round of preset ``batch``."""

BATCH_ROUNDS = 16
"""Rounds of preset ``batch`` (Bayesmark's 16 rounds); the budget is rounds x q evaluations."""

BATCH_PROBLEMS = ("branin", "hartmann6", "ackley5", "levy6", "svr-diabetes")
"""Four tuning-set anchors (comparable with their sequential runs) and one report-set
tuning task."""

BATCH_CONTENDERS = ("bayesopt", "optuna-gp", "optuna-tpe", "random", "random-2x")
"""Base contenders of preset ``batch``, each run as ``NAME-q4`` and ``NAME-q8``: bayesopt's
``ask(q)``, Optuna's GPSampler (qLogEI over the running trials) and TPESampler (constant
liar), and random search (with the same and with twice the points per round)."""

HARD_PROBLEMS = ("ackley10", "ackley20", "levy12", "rosenbrock10", "mlp4-digits")
"""Preset ``hard``: d >= 10 with budgets of 200. Ackley-10/20 and Levy-12 are in the tuning
set (the trust-region rule was chosen on them, at budget 100); Rosenbrock-10 and the 22-D
layer-wise MLP are in the report set."""

HARD_BUDGET = 200
"""Evaluations per cell of preset ``hard``."""

HARD_CONTENDERS = (
    "bayesopt",
    "random",
    "random-2x",
    "optuna-gp",
    "optuna-tpe",
    "cma-es",
    "nevergrad-ngopt",
)
"""Contenders of preset ``hard``: those whose asks stay cheap at d = 20 and n = 200 (SMAC's
random forest, at about 0.5 s an ask there, is left to a --contenders run). cma-es cannot
take the MLP's categorical ``activation`` and records an error there."""


def _ablation_blocks() -> tuple[Block, ...]:
    """The factor study in priority order (``python -m benchmarks ablation`` runs the blocks
    one after the other, so an interrupted study has its most important comparisons)."""
    model = ("bayesopt-v0+lownoise", "bayesopt-v0+matern", "bayesopt-v0+scale",
             "bayesopt-v0+lsprior")  # fmt: skip
    design = (
        "bayesopt-v1+logei",
        "bayesopt-v1+boltzmann",
        "bayesopt-v1+noinc",
        "bayesopt-v1+raw2048",
        "bayesopt-v1+warp",
        "bayesopt-v1+bilog",
        "bayesopt-v1+yeojohnson",
        "bayesopt-v1+rescaled",
        "bayesopt-v1+uniform",
        "bayesopt-v1+init5d",
        "bayesopt-v1+rbf",
    )
    return (
        # The old default (v0), the study's first default (v1) and the adopted one on the
        # five anchor problems and the noisy variants
        # (the new noise model must not regress there).
        Block(_ANCHORS + _NOISY, ("bayesopt", "bayesopt-v0", "bayesopt-v1"), _seeds(10)),
        # The initial design: the new default gets trapped in Hartmann-6's second-best basin
        # (f = -3.20) on some seeds; Optuna's GPSampler starts from 10 uniform points.
        Block(
            ("hartmann6", "branin", "levy6"),
            ("bayesopt-v1+init10", "bayesopt-v1+uniform", "bayesopt-v1+init10u"),
            _seeds(10),
        ),
        # Each model factor alone on top of the old default.
        Block(("branin", "hartmann6", "rosenbrock4"), model, _seeds(10)),
        # The one standard problem where the new default loses to the old one (RF on wine,
        # a rugged deterministic objective): which model factor does it, and do the
        # Boltzmann starts or LogEI change it ("random" anchors the normalised score).
        Block(
            ("rf-wine",),
            (
                "bayesopt",
                "bayesopt-v1",
                "bayesopt-v0",
                *model,
                "bayesopt-v1+boltzmann",
                "bayesopt-v1+logei",
                "random",
            ),
            _seeds(10),
        ),
        # Hartmann-6's second basin (f = -3.20) on 30 seeds: how often the default and
        # Optuna's GPSampler end there (the anchor cell has only seeds 0-9).
        Block(
            ("hartmann6",),
            ("bayesopt-v1", "bayesopt", "optuna-gp", "optuna-gp+our-design", "bayesopt-v1+init10u"),
            _seeds(30),
        ),
        # The trust region: the default uses it from d = 10 (against bayesopt+notr there),
        # and the same region below 10 dimensions (bayesopt+tr) shows what it costs there.
        Block(("ackley10", "ackley20", "levy12"), ("bayesopt-v1", "bayesopt-v1+notr"), _seeds(10)),
        Block(("hartmann6", "ackley5", "levy6"), ("bayesopt-v1+tr",), _seeds(10)),
        # Yeo-Johnson outputs won on Hartmann-6 (final precision in the global basin) and
        # tied on Branin: the other anchors, the noisy and mixed problems and RF-wine.
        Block(
            ("ackley5", "rosenbrock4", "levy6", *_NOISY, "mixed-levy", "rf-wine"),
            ("bayesopt-v1+yeojohnson",),
            _seeds(10),
        ),
        # LogEI against qLogNEI where noise matters.
        Block(_NOISY, ("bayesopt-v1+logei",), _seeds(10)),
        # Every other factor alone on top of v1 (the default before Yeo-Johnson outputs),
        # most important first.
        *(Block(("branin", "hartmann6"), (name,), _seeds(10)) for name in design),
        Block(("mixed-levy",), ("bayesopt-v1", "bayesopt-v1+exh4"), _seeds(10)),
        # What the local model beyond max_exact costs in regret.
        Block(("hartmann6", "ackley5"), ("bayesopt-v1+local32",), _seeds(10)),
        # BoTorch's mixed alternating acquisition optimiser in place of ours, against the
        # adopted default (whose cells the anchor block already has, except on mixed Levy).
        Block(
            ("branin", "hartmann6", "levy6", "mixed-levy"),
            ("bayesopt", "bayesopt+botorch-propose"),
            _seeds(10),
        ),
        # One L-BFGS-B run per start instead of one over all starts (faster asks) on the
        # tuning set's anchors, noisy pair and mixed Levy, against the default's cells of
        # the first block and the RF-wine block.
        Block(
            (*_ANCHORS, *_NOISY, "mixed-levy"),
            ("bayesopt+indep-lbfgs",),
            _seeds(10),
        ),
    )


_EXPENSIVE_PEERS = ("smac-bb", "ax", "hebo")
"""Peers whose asks cost seconds to minutes on this suite's problems (or that need a side
environment): run them with --contenders on a chosen slice."""

_FULL_CONTENDERS = tuple(
    c
    for c in contenders.names(variants=False)
    if c not in ("cma-es", "hyperopt-tpe", *_EXPENSIVE_PEERS)
)

_PRESETS = (
    Preset(
        "quick",
        "3 problems (Branin; SVR on diabetes; logistic regression on breast cancer, with "
        "two categorical parameters) x bayesopt, the baselines and the installed peers x 6 "
        "seeds. About 6 minutes on one worker (measured). Six seeds are the fewest with which the "
        "Wilcoxon test can reach p < 0.05.",
        (
            Block(
                ("branin", "svr-diabetes", "logreg-breast"),
                ("bayesopt", *BASELINES, *PEERS),
                _seeds(6),
            ),
        ),
    ),
    Preset(
        "standard",
        "The committed report, sized for about 9 minutes on 16 workers (about 9,400 "
        "estimated cell-seconds). 10 seeds. Default bayesopt, random, random-2x, Sobol and "
        "the three peers on 8 problems with known optima (5 synthetic, 2 noisy, mixed Levy) "
        "and 7 tuning tasks; bayesopt-logei and bayesopt-ucb only on Hartmann-6 and SVR "
        "(they cost as much as the default and answer a narrower question). Left to `full`: "
        "Ackley-10/20, Michalewicz-5, Styblinski-Tang-8 and mixed Ackley (1-2 minutes per "
        "bayesopt or skopt cell), SVM and MLP on digits (saturate or cost more) and the "
        "random forest on iris.",
        (
            Block(
                _STANDARD_SYNTHETIC + _STANDARD_ML,
                ("bayesopt", *BASELINES, *PEERS),
                _seeds(10),
            ),
            Block(_VARIANT_PROBLEMS, BAYESOPT[1:], _seeds(10)),
        ),
    ),
    Preset(
        "ablation",
        "The factor study (benchmarks/variants.py), sized for a 2-core machine: the old "
        "default (bayesopt-v0), the study's first default (bayesopt-v1) and the adopted one "
        "on the five anchor problems (Branin, Hartmann-6, Ackley-5, Rosenbrock-4, Levy-6) and "
        "the two noisy variants; each model factor alone on top of v0 on Branin, Hartmann-6, "
        "Rosenbrock-4 and RF-wine; every other factor alone on top of v1 on Branin and "
        "Hartmann-6 (Yeo-Johnson outputs and "
        "Boltzmann starts on more); Hartmann-6 on 30 seeds; discrete search on mixed Levy; "
        "the trust region on Ackley-10/20 and Levy-12; BoTorch's acquisition optimiser in "
        "place of ours on Branin, Hartmann-6, Levy-6 and mixed Levy; one L-BFGS-B run per "
        "start against one over all starts on the anchors, the noisy pair and mixed Levy. "
        "10 seeds unless stated. "
        "`python -m benchmarks ablation` runs the blocks in this order and writes the report.",
        _ablation_blocks(),
    ),
    Preset(
        "bbob",
        "The COCO BBOB noiseless suite (benchmarks/problems/bbob.py): 24 functions at d = 2 "
        "(instances 1-15, seeds 0-14), d = 5 (instances 1-10), d = 10 (instances 1-10) and "
        "d = 20 (instances 1-3), budget 20 d x bayesopt, "
        "random, random-2x, "
        "optuna-gp (not at d = 20), optuna-tpe, cma-es, hyperopt-tpe and Nevergrad's NGOpt. "
        "`python -m "
        "benchmarks bbob-report` "
        "writes results/bbob/REPORT.md (regret tables, ECDFs of runtimes, Wilcoxon + Holm).",
        tuple(
            Block(
                tuple(p for p in BBOB_REPORT_SET if p.endswith(f"-d{d}")),
                bbob_contenders(d),
                _seeds(BBOB_INSTANCES[d]),
            )
            for d in BBOB_DIMS
        ),
    ),
    Preset(
        "batch",
        f"Batch mode: {BATCH_ROUNDS} rounds of q = {' and '.join(map(str, BATCH_Q))} points "
        "on Branin, Hartmann-6, Ackley-5, Levy-6 and SVR on diabetes, x bayesopt (ask(q)), "
        "Optuna's GPSampler and TPESampler asked q trials before any tell, random search "
        "with q and with 2q points a round; 10 seeds. Budget points are rounds (contenders "
        "NAME-q4, NAME-q8); the report compares contenders at equal q.",
        (
            Block(
                BATCH_PROBLEMS,
                tuple(f"{c}-q{q}" for q in BATCH_Q for c in BATCH_CONTENDERS),
                _seeds(10),
                budget=BATCH_ROUNDS,
            ),
        ),
    ),
    Preset(
        "hard",
        "Dimensions 10 to 22 with 200 evaluations: Ackley-10, Ackley-20, Levy-12 (tuning "
        "set), Rosenbrock-10 and a 4-layer MLP on digits with 22 per-layer hyperparameters "
        "(report set) x bayesopt, random, random-2x, optuna-gp, optuna-tpe, cma-es and "
        "nevergrad-ngopt; 5 seeds. Run it with --threads 1: the MLP's torch "
        "training is slowed by thread contention otherwise.",
        (Block(HARD_PROBLEMS, HARD_CONTENDERS, _seeds(5), budget=HARD_BUDGET),),
    ),
    Preset(
        "full",
        "Every problem x every contender x 20 seeds. Hours of CPU; run it in chunks with "
        "--max-cells (resumable).",
        # BBOB's problems (not in problems.names()) and its two extra peers stay in `bbob`.
        (Block(tuple(problems.names()), _FULL_CONTENDERS, _seeds(20)),),
    ),
)


def registry() -> dict[str, Preset]:
    """Presets by name."""
    return {p.name: p for p in _PRESETS}


def get(name: str) -> Preset:
    """The preset called ``name``."""
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(registry())}") from None


def names() -> list[str]:
    """Preset names."""
    return list(registry())
