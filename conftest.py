"""Collection rules for the doctest run over the package."""

import importlib.util

# bayesopt.sklearn needs scikit-learn (the `sklearn` extra); without it, skip its doctests.
collect_ignore = [] if importlib.util.find_spec("sklearn") else ["bayesopt/sklearn.py"]
