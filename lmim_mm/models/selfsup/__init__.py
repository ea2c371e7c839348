from .base import MaskedSelfSupervisor
from .lmim import LMIM, freeze_as_buffers
from .text_mae import MMS, TextMAE

__all__ = ['LMIM', 'MMS', 'MaskedSelfSupervisor', 'TextMAE', 'freeze_as_buffers']
