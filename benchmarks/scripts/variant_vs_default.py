"""A factor-study variant against the default, with Holm's correction (``compare``).

Usage, from the repository root::

    python -m benchmarks.scripts.variant_vs_default <variant> --out <folder>
        [--suite ablation] [--reference bayesopt] [--problems a,b,...]

The suite's ``runs.jsonl`` holds both contenders' cells. This writes the reference's and
the variant's cells on the problems and seeds the variant ran (the variant's renamed to
the reference's name) as ``<folder>/reference.jsonl`` and ``<folder>/variant.jsonl``, then
compares them as ``python -m benchmarks compare`` does into ``<folder>/COMPARE.md``
("old": the reference, "new": the variant): the paired Wilcoxon test per problem and
Holm's correction over the problems. The ablation report's W/T/L columns are the raw
tests without the correction.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import store
from benchmarks.compare import write_comparison


def main(argv: Sequence[str] | None = None) -> int:
    """Write the two runs files and the comparison; print the comparison's path."""
    parser = argparse.ArgumentParser(description="A variant against the default, with Holm.")
    parser.add_argument("variant", help="e.g. bayesopt+indep-lbfgs")
    parser.add_argument("--out", required=True, help="folder for the runs files and COMPARE.md")
    parser.add_argument("--suite", default="ablation", help="suite under benchmarks/results")
    parser.add_argument("--reference", default="bayesopt", help="the contender compared with")
    parser.add_argument("--problems", help="comma-separated (default: every problem it ran)")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[1] / "results" / args.suite
    latest = store.latest(store.read(root / "runs.jsonl")[0]).values()
    records = [r for r in latest if r.get("status") == "ok"]
    wanted = set(args.problems.split(",")) if args.problems else None
    variant = [
        r
        for r in records
        if r["contender"] == args.variant and (wanted is None or r["problem"] in wanted)
    ]
    cells = {(r["problem"], r["seed"], r["budget"]) for r in variant}
    reference = [
        r
        for r in records
        if r["contender"] == args.reference and (r["problem"], r["seed"], r["budget"]) in cells
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "reference.jsonl").open("w") as f:
        f.writelines(json.dumps(r) + "\n" for r in reference)
    with (out / "variant.jsonl").open("w") as f:
        f.writelines(json.dumps(r | {"contender": args.reference}) + "\n" for r in variant)
    command = "python -m benchmarks.scripts.variant_vs_default " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    path = write_comparison(
        out / "reference.jsonl",
        out / "variant.jsonl",
        args.reference,
        out / "COMPARE.md",
        command=command,
    )
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
