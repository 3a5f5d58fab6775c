"""Benchmark suite of bayesopt: problems, contenders, a resumable runner and a report.

Run ``python -m benchmarks --help``; ``benchmarks/README.md`` explains the suite.
"""
