from .base import MaskedSelfSupervisor
from .lmim import LMIM, freeze_as_buffers
from .text_mae import TextMAE

__all__ = ['LMIM', 'MaskedSelfSupervisor', 'TextMAE', 'freeze_as_buffers']
