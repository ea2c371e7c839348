"""Re-creations of the authors' computation (timm blocks, imgaug + torchvision augmentation) and the parity
drivers that compare lmim_mm with their fixtures; used by ``tools/check_parity.py``, the tests and ``benchmarks/``,
never by ``lmim_mm``. Installed next to ``lmim_mm`` by ``setup.py``."""
