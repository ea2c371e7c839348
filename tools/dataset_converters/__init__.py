"""Dataset converters and their LMDB writer (:mod:`tools.dataset_converters.lmdb_convert`)."""
