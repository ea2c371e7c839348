"""Dataset converter (the sources and the LMDB writer are :mod:`lmim_mm.datasets.sources`)."""
