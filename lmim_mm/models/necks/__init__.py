from .alignment_decoder import AlignmentDecoder, AlignmentDecoderLayer, CrossAttention
from .linear_norm import LinearNorm
from .mae_decoder import MaskedTokenDecoder, TextMAEDecoder, restore_sequence

__all__ = [
    'AlignmentDecoder', 'AlignmentDecoderLayer', 'CrossAttention', 'LinearNorm', 'MaskedTokenDecoder',
    'TextMAEDecoder', 'restore_sequence'
]
