from .lmim_head import LMIMHead
from .mae_head import TextMAEHead

__all__ = ['LMIMHead', 'TextMAEHead']
