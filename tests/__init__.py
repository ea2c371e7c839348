"""Tests of lmim_mm (a package so that ``tests.reference`` / ``tests.helpers`` import from the repository root)."""
