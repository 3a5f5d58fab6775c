"""Adapters of the peer optimisers added beside Optuna and scikit-optimize: Nevergrad, SMAC3
and Ax in this environment, HEBO in its own (``make_venv.py``, ``serve.py``)."""
