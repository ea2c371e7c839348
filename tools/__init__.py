"""Scripts of lmim_mm (argument parsing and calls into lmim_mm); a package so that tests import them."""
