"""Test helpers: tiny datasets, tiny fitted recognizers, isolated interpreters (tests and ``benchmarks/``)."""
