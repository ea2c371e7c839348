"""lmim_mm: self-supervised scene text recognition (LMIM, MAE, MMS) as an OpenMMLab plugin."""
from .version import __version__

__all__ = ['__version__']
