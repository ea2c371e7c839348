from .text_decoder import KVCache, TransformerTextDecoder
from .text_decoding import beam_search, greedy_decode

__all__ = ['KVCache', 'TransformerTextDecoder', 'beam_search', 'greedy_decode']
