"""Converters from the authors' (LMIM, MAERec) checkpoints to lmim_mm state dicts."""
from .authors import (
                      convert_lmim_pretrain,
                      convert_lmim_recognizer,
                      convert_maerec_mae,
                      read_authors_checkpoint,
                      save_mm_checkpoint,
)
from .base import ConversionError, convert_keys

__all__ = ['ConversionError', 'convert_keys', 'convert_lmim_pretrain', 'convert_lmim_recognizer', 'convert_maerec_mae',
           'read_authors_checkpoint', 'save_mm_checkpoint']
