from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

from ..backbones.text_vit import PosGrid
from .mae_decoder import TextMAEDecoder


@MODELS.register_module()
class AlignmentDecoder(TextMAEDecoder):
    """LMIM's alignment decoder: reconstructs the teacher's features of the masked view, guided by the other view.
    Queries: :class:`TextMAEDecoder`'s (``decoder_embed``, mask tokens, fixed table); memory: a separate projection
    (``memory_embed``) of all guidance-view tokens, no positions; ``depth`` post-norm SA-CA-FFN layers: the authors'
    ``nn.TransformerDecoderLayer`` (GELU, batch first, ``dropout``); then ``ln1`` -> ``decoder_pred``. Arguments not
    listed are :class:`TextMAEDecoder`'s.

    Args:
        ffn_dim: FFN hidden width (the authors fix 2048 at every width).
        out_channels: Predicted feature width; defaults to ``in_channels`` (the teacher's width).
    """

    def __init__(self, in_channels: int = 384, embed_dim: int = 512, depth: int = 2, num_heads: int = 16,
                 ffn_dim: int = 2048, dropout: float = 0.1, out_channels: Optional[int] = None,
                 grid_size: Sequence[int] = (8, 32), pos_grid: PosGrid = 'true',
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(in_channels, embed_dim, 0, num_heads, out_channels=out_channels or in_channels,
                         grid_size=grid_size, pos_grid=pos_grid, init_cfg=init_cfg)
        self.memory_embed = nn.Linear(in_channels, embed_dim)
        self.decoder_blocks = nn.ModuleList(
            nn.TransformerDecoderLayer(embed_dim, num_heads, ffn_dim, dropout, activation='gelu', layer_norm_eps=1e-6,
                                       batch_first=True) for _ in range(depth))
        self._mae_init()

    def queries(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """[cls] + visible tokens (N, 1 + L_keep, C_in) -> all tokens in order, mask tokens filled, (N, 1 + L, D)."""
        self.check_tokens(ids_restore)
        x = self.decoder_embed(latent)
        n, num_in, dim = x.shape
        fill = self.mask_token.to(x.dtype).expand(n, ids_restore.shape[1] + 1 - num_in, dim)
        patches = torch.gather(torch.cat([x[:, 1:], fill], 1), 1, ids_restore[..., None].expand(-1, -1, dim))
        return torch.cat([x[:, :1], patches], dim=1) + self.decoder_pos_embed

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Target features (N, L, out_channels) of every patch token from the student's outputs on the masked view
        (``latent``: [cls] + visible, (N, 1 + L_keep, C_in); ``ids_restore`` (N, L)) and on the guidance view
        (``memory``: all tokens, (N, 1 + L, C_in))."""
        x = self.queries(latent, ids_restore)
        memory = self.memory_embed(memory)
        for layer in self.decoder_blocks:
            x = layer(x, memory)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]
