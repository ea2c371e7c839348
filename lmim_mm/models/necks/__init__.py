from .alignment_decoder import AlignmentDecoder
from .linear_norm import LinearNorm
from .mae_decoder import TextMAEDecoder

__all__ = ['AlignmentDecoder', 'LinearNorm', 'TextMAEDecoder']
