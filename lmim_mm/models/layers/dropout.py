"""Dropout for :mod:`.text_decoder`: PyTorch's ``nn.Dropout``."""
from torch.nn import Dropout

__all__ = ['Dropout']
