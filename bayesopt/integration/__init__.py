"""Integrations with other hyperparameter-tuning frameworks (optional extras).

* ``bayesopt.integration.optuna``: ``BayesoptSampler``, an Optuna sampler (needs ``optuna``).
* ``bayesopt.integration.ray``: ``BayesoptSearch``, a Ray Tune searcher (needs ``ray[tune]``).

Importing this package imports neither framework; each submodule imports its own.
"""
