"""Converters from the authors' (LMIM, MAERec) checkpoints to lmim_mm state dicts."""
from .base import ConversionError, convert_keys
from .lmim_pretrain import convert_lmim_pretrain
from .lmim_recognizer import convert_lmim_recognizer
from .maerec_mae import convert_maerec_mae, read_authors_checkpoint, save_mm_checkpoint

__all__ = [
    'ConversionError', 'convert_keys', 'convert_lmim_pretrain', 'convert_lmim_recognizer', 'convert_maerec_mae',
    'read_authors_checkpoint', 'save_mm_checkpoint'
]
