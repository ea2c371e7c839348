"""lmim_mm: self-supervised scene text recognition (LMIM, MAE, MMS) as an OpenMMLab plugin.

``import lmim_mm`` (or ``custom_imports=dict(imports=['lmim_mm'])`` in a config) registers every
lmim_mm class in mmocr's and mmpretrain's registries. The model math
(:mod:`lmim_mm.models.backbones`, :mod:`lmim_mm.models.layers`, mask generators, decoders) imports
with torch + mmengine alone; the OpenMMLab integration is loaded when mmocr and mmpretrain are
installed (the supported set-up).
"""
from .registry import OPENMMLAB_AVAILABLE
from .version import __version__

if OPENMMLAB_AVAILABLE:
    from . import datasets, engine, evaluation, models  # noqa: F401  (registers our classes)

__all__ = ['__version__', 'OPENMMLAB_AVAILABLE']
