"""Benchmarks outside the library, run by ``tools/benchmark.py``: :mod:`benchmarks.harness` (speed against
re-creations of the authors' computation) and the deployment benchmarks."""
