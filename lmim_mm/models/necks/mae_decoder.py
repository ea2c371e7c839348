"""MAE-style decoders: mask tokens back in place, a fixed 2-D table, transformer blocks, projection."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from lmim_mm.registry import register
from ..layers.pos_embed import PosGrid, sincos_2d_table
from ..layers.transformer import Block, init_vit_weights


def restore_sequence(tokens: torch.Tensor, mask_token: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
    """Put mask tokens at the removed positions and undo the encoder's shuffle.

    Args:
        tokens: [cls] + visible tokens, (N, 1 + L_keep, D).
        mask_token: (1, 1, D).
        ids_restore: (N, L), from :meth:`TextViT.forward_masked`.

    Returns:
        (N, 1 + L, D): [cls] first, then the L tokens in their original order.
    """
    n, num_in, dim = tokens.shape
    length = ids_restore.shape[1]
    fill = mask_token.to(tokens.dtype).expand(n, length + 1 - num_in, dim)
    patches = torch.cat([tokens[:, 1:], fill], dim=1)
    patches = torch.gather(patches, 1, ids_restore.unsqueeze(-1).expand(-1, -1, dim))
    return torch.cat([tokens[:, :1], patches], dim=1)


class MaskedTokenDecoder(BaseModule):
    """Decoder side shared by MAE and LMIM: query embedding and output projection.

    Subclasses add their blocks, call :meth:`_init_default_weights` at the end of ``__init__`` and
    run ``blocks(embed_queries(...))`` then :meth:`project`.

    Args:
        in_channels: Encoder width.
        embed_dim: Decoder width.
        out_channels: Values predicted per patch token.
        grid_size: Token grid (rows, columns) of the encoder, e.g. (8, 32).
        pos_grid: ``'true'`` or ``'legacy'`` (the authors' 16x16 table) for the decoder's fixed
            sin-cos table; a loaded checkpoint's ``decoder_pos_embed`` replaces it.
        norm_eps: LayerNorm epsilon.
        init_cfg: mmengine init config.
    """

    def __init__(self, in_channels: int, embed_dim: int, out_channels: int, grid_size: Sequence[int],
                 pos_grid: PosGrid = 'true', norm_eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.grid_size = tuple(grid_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.decoder_embed = nn.Linear(in_channels, embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.register_buffer('decoder_pos_embed', sincos_2d_table(embed_dim, self.grid_size, pos_grid))
        self.decoder_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.decoder_pred = nn.Linear(embed_dim, out_channels)

    def _init_default_weights(self) -> None:
        """MAE initialisation: xavier-uniform Linear weights, unit LayerNorms, mask token N(0, 0.02)."""
        self.apply(init_vit_weights)
        nn.init.normal_(self.mask_token, std=0.02)

    def embed_queries(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """Encoder output -> full query sequence with mask tokens and positions.

        Args:
            latent: [cls] + visible tokens from the encoder, (N, 1 + L_keep, C_in).
            ids_restore: (N, L).

        Returns:
            (N, 1 + L, D).
        """
        if ids_restore.shape[1] != self.num_patches:
            raise ValueError(f'ids_restore has {ids_restore.shape[1]} tokens, the decoder expects '
                             f'{self.num_patches} (grid {self.grid_size})')
        return restore_sequence(self.decoder_embed(latent), self.mask_token, ids_restore) + self.decoder_pos_embed

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Final norm and prediction, [cls] dropped: (N, 1 + L, D) -> (N, L, out_channels)."""
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]


@register('MODELS')
class TextMAEDecoder(MaskedTokenDecoder):
    """MAE pixel decoder for text images (MAERec): pre-norm ViT blocks, predicts patch pixels.

    Args:
        in_channels: Encoder width (384 for ViT-S).
        embed_dim: Decoder width.
        depth: Number of blocks.
        num_heads: Attention heads.
        mlp_ratio: MLP hidden width / ``embed_dim``.
        out_channels: Pixels per patch, ``patch_size ** 2 * img_channels`` (48 for 4x4 RGB).
        grid_size: Encoder token grid (rows, columns).
        pos_grid: See :class:`MaskedTokenDecoder`.
        norm_eps: LayerNorm epsilon.
        init_cfg: mmengine init config.
    """

    def __init__(self, in_channels: int = 384, embed_dim: int = 512, depth: int = 8, num_heads: int = 16,
                 mlp_ratio: float = 4.0, out_channels: int = 48, grid_size: Sequence[int] = (8, 32),
                 pos_grid: PosGrid = 'true', norm_eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(in_channels, embed_dim, out_channels, grid_size, pos_grid, norm_eps, init_cfg)
        self.decoder_blocks = nn.ModuleList(
            [Block(embed_dim, num_heads, mlp_ratio, qkv_bias=True, norm_eps=norm_eps) for _ in range(depth)])
        self._init_default_weights()

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """Predict every patch.

        Args:
            latent: Encoder output for [cls] + visible tokens, (N, 1 + L_keep, C_in).
            ids_restore: (N, L).

        Returns:
            Pixel predictions (N, L, out_channels), row-major over the token grid.
        """
        x = self.embed_queries(latent, ids_restore)
        for block in self.decoder_blocks:
            x = block(x)
        return self.project(x)
