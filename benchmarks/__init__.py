"""Benchmarks outside the library: ``tools/benchmark.py`` runs them next to :mod:`lmim_mm.utils.benchmark`'s."""
