"""lmim_mm: self-supervised scene text recognition (LMIM, MAE, MMS) as an OpenMMLab plugin.

``import lmim_mm`` (or ``custom_imports=dict(imports=['lmim_mm'])``) registers every lmim_mm class once: self-supervised
parts in mmpretrain's registries, the rest in mmocr's. Without mmocr and mmpretrain only :mod:`lmim_mm.deploy` works."""
import importlib.util

from . import compat  # noqa: F401  (first: lets mmocr / mmpretrain import on numpy 2 and transformers 5)
from .version import __version__

#: Whether mmocr and mmpretrain are installed (the supported set-up, ``make setup``).
OPENMMLAB_AVAILABLE = all(importlib.util.find_spec(scope) is not None for scope in ('mmocr', 'mmpretrain'))

if OPENMMLAB_AVAILABLE:
    from . import datasets, engine, evaluation, models  # noqa: F401  (registers our classes)

__all__ = ['__version__', 'OPENMMLAB_AVAILABLE']
