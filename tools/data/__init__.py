"""Data tools: the synthetic word renderer (:mod:`tools.data.synthetic`), dictionaries."""
