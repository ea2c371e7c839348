from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmpretrain.models.necks import MAEPretrainDecoder
from mmpretrain.registry import MODELS

from ..backbones.text_vit import PosGrid, mae_init, sincos_2d_table


@MODELS.register_module()
class TextMAEDecoder(MAEPretrainDecoder):
    """MAE pixel decoder for text images (MAERec) with a fixed sin-cos table on the encoder's token grid.

    Args:
        in_channels: Encoder width (384 for ViT-S).
        mlp_ratio: FFN hidden width / ``embed_dim``.
        out_channels: Values per patch token, e.g. ``patch_size ** 2 * img_channels`` (48 for 4x4 RGB).
        grid_size: Encoder token grid (rows, columns).
        pos_grid: ``'true'`` or ``'legacy'``, see :func:`~lmim_mm.models.backbones.text_vit.sincos_2d_table`.
    """

    def __init__(self, in_channels: int = 384, embed_dim: int = 512, depth: int = 8, num_heads: int = 16,
                 mlp_ratio: float = 4.0, out_channels: int = 48, grid_size: Sequence[int] = (8, 32),
                 pos_grid: PosGrid = 'true', init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(num_patches=grid_size[0] * grid_size[1], embed_dim=in_channels, decoder_embed_dim=embed_dim,
                         decoder_depth=depth, decoder_num_heads=num_heads, mlp_ratio=mlp_ratio,
                         predict_feature_dim=out_channels, init_cfg=init_cfg)
        self.grid_size = tuple(grid_size)
        self.pos_grid = pos_grid
        self._mae_init()

    def _mae_init(self) -> None:
        """MAE's random init: xavier Linears, unit LayerNorms, the fixed table, mask token N(0, 0.02)."""
        self.apply(mae_init)
        table = sincos_2d_table(self.decoder_pos_embed.shape[-1], self.grid_size, self.pos_grid)
        self.decoder_pos_embed.data.copy_(table)
        nn.init.normal_(self.mask_token, std=0.02)

    def init_weights(self) -> None:
        """mmpretrain's init (init_cfg), then MAE's random init on the text grid."""
        super().init_weights()
        self._mae_init()

    def check_tokens(self, ids_restore: torch.Tensor) -> None:
        """Raise a ValueError unless ``ids_restore`` (N, L) covers the decoder's token grid."""
        if ids_restore.shape[1] != self.num_patches:
            raise ValueError(f'ids_restore has {ids_restore.shape[1]} tokens, the decoder expects '
                             f'{self.num_patches} (grid {self.grid_size})')

    def forward(self, x: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """[cls] + visible encoder tokens (N, 1 + L_keep, C_in), ids_restore (N, L) -> (N, L, out_channels)."""
        self.check_tokens(ids_restore)
        return super().forward(x, ids_restore)
