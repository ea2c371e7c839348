"""Scripts of lmim_mm; a package so that their shared modules import as ``tools.<folder>.<module>``."""
