"""Analysis tools (the analyses are :mod:`lmim_mm.apis`)."""
