"""Converters from the authors' (LMIM, MAERec) checkpoints to lmim_mm state dicts."""
from .base import ConversionError, convert_keys

__all__ = ['ConversionError', 'convert_keys']
