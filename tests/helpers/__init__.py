"""Test helpers: tiny datasets and configs, the argparse probe of the documented commands (the tiny fitted
recognizers and isolated interpreters that the benchmarks share are in ``benchmarks/``)."""
