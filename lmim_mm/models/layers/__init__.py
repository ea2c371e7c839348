from .attention import attention
from .dropout import Dropout, dropout, dropout_mask
from .pos_embed import sincos_1d, sincos_2d_table
from .text_decoder import KVCache, TransformerTextDecoder
from .text_decoding import beam_search, greedy_decode, sequence_log_prob
from .transformer import Attention, Block, DropPath, Mlp, drop_path, init_vit_weights

__all__ = [
    'Attention', 'Block', 'DropPath', 'Dropout', 'KVCache', 'Mlp', 'TransformerTextDecoder', 'attention', 'beam_search',
    'drop_path', 'dropout', 'dropout_mask', 'greedy_decode', 'init_vit_weights', 'sequence_log_prob', 'sincos_1d',
    'sincos_2d_table'
]
