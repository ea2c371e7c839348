"""LMIM's alignment decoder: masked-view queries attend to the guidance view (SA-CA-FFN, post-norm)."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn

from lmim_mm.registry import register
from ..layers.attention import attention
from ..layers.dropout import Dropout
from ..layers.pos_embed import PosGrid
from ..layers.transformer import Attention, Mlp
from .mae_decoder import MaskedTokenDecoder


class CrossAttention(nn.Module):
    """Multi-head attention of queries ``x`` over ``memory``, run by :func:`~lmim_mm.models.layers.attention.attention`.

    The key/value projection is fused (``kv``); together with ``q`` it holds the rows of
    ``nn.MultiheadAttention.in_proj_weight`` (``q`` = the first third, ``kv`` = the rest).

    Args:
        dim: Width of queries and memory.
        num_heads: Attention heads.
        qkv_bias: Bias in the input projections.
        attn_drop: Dropout on attention weights (training only).
        proj_drop: Dropout after the output projection.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, attn_drop: float = 0.0,
                 proj_drop: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = Dropout(proj_drop)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(N, Lq, C) queries, (N, Lk, C) memory -> (N, Lq, C)."""
        n, num_q, channels = x.shape
        q = self.q(x).reshape(n, num_q, self.num_heads, self.head_dim).transpose(1, 2)
        kv = self.kv(memory).reshape(n, memory.shape[1], 2, self.num_heads, self.head_dim)
        k, v = kv.permute(2, 0, 3, 1, 4).unbind(0)  # unbind: see Attention.forward
        out = attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(n, num_q, channels)))


class AlignmentDecoderLayer(nn.Module):
    """Post-norm decoder layer: ``LN(x + SA(x))``, ``LN(x + CA(x, mem))``, ``LN(x + FFN(x))``.

    Computes what ``nn.TransformerDecoderLayer(batch_first=True, activation='gelu')`` computes
    (the authors' module), with ``dropout`` on attention weights, after each sub-layer and inside
    the FFN.

    Args:
        dim: Width.
        num_heads: Attention heads.
        ffn_dim: FFN hidden width.
        dropout: Dropout rate.
        norm_eps: LayerNorm epsilon.
    """

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float = 0.1, norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.self_attn = Attention(dim, num_heads, qkv_bias=True, attn_drop=dropout, proj_drop=dropout)
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.cross_attn = CrossAttention(dim, num_heads, qkv_bias=True, attn_drop=dropout, proj_drop=dropout)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, ffn_dim, drop=dropout)
        self.norm3 = nn.LayerNorm(dim, eps=norm_eps)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(N, Lq, C) queries, (N, Lk, C) memory -> (N, Lq, C)."""
        x = self.norm1(x + self.self_attn(x))
        x = self.norm2(x + self.cross_attn(x, memory))
        return self.norm3(x + self.mlp(x))


@register('MODELS')
class AlignmentDecoder(MaskedTokenDecoder):
    """LMIM's decoder: reconstructs the teacher's features of the masked view, guided by the other view.

    Queries are the masked view's tokens (``decoder_embed``, mask tokens, fixed sin-cos table);
    memory is a separate projection (``memory_embed``) of all guidance-view tokens, with no
    position table. Output: ``decoder_norm`` -> ``decoder_pred``, [cls] dropped.

    Args:
        in_channels: Encoder width (384 for ViT-S).
        embed_dim: Decoder width.
        depth: Number of :class:`AlignmentDecoderLayer`.
        num_heads: Attention heads.
        ffn_dim: FFN hidden width (the authors fix 2048 at every width).
        dropout: Dropout rate in the layers.
        out_channels: Predicted feature width; defaults to ``in_channels`` (the teacher's width).
        grid_size: Encoder token grid (rows, columns).
        pos_grid: See :class:`MaskedTokenDecoder`.
        norm_eps: LayerNorm epsilon of the layers and the final norm.
        init_cfg: mmengine init config.
    """

    def __init__(self, in_channels: int = 384, embed_dim: int = 512, depth: int = 2, num_heads: int = 16,
                 ffn_dim: int = 2048, dropout: float = 0.1, out_channels: Optional[int] = None,
                 grid_size: Sequence[int] = (8, 32), pos_grid: PosGrid = 'true', norm_eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(in_channels, embed_dim, out_channels or in_channels, grid_size, pos_grid, norm_eps,
                         init_cfg)
        self.memory_embed = nn.Linear(in_channels, embed_dim)
        self.decoder_blocks = nn.ModuleList(
            [AlignmentDecoderLayer(embed_dim, num_heads, ffn_dim, dropout, norm_eps) for _ in range(depth)])
        self._init_default_weights()

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Predict the target features of every patch token.

        Args:
            latent: Student output on the masked view, [cls] + visible, (N, 1 + L_keep, C_in).
            ids_restore: (N, L).
            memory: Student output on the guidance view, all tokens, (N, 1 + L, C_in).

        Returns:
            (N, L, out_channels).
        """
        x = self.embed_queries(latent, ids_restore)
        memory = self.memory_embed(memory)
        for layer in self.decoder_blocks:
            x = layer(x, memory)
        return self.project(x)
