"""Data tools: rendered demo words (the renderer is :mod:`lmim_synth`), dictionaries."""
