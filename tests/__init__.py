"""Tests of lmim_mm (a package so that ``tests.helpers`` imports from the repository root)."""
