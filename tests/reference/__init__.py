"""Re-creations of the authors' computation (timm blocks, imgaug + torchvision augmentation) and the parity
drivers that compare lmim_mm with their fixtures (``tools/check_parity.py``, tests, ``benchmarks/``)."""
