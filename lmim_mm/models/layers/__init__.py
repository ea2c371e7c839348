from .pos_embed import sincos_1d, sincos_2d_table
from .transformer import Attention, Block, DropPath, Mlp, drop_path, init_vit_weights

__all__ = ['Attention', 'Block', 'DropPath', 'Mlp', 'drop_path', 'init_vit_weights', 'sincos_1d', 'sincos_2d_table']
