"""Scaled dot-product attention: PyTorch's fused kernels, plus a blockwise CPU path for attention dropout.

With dropout on the attention weights, ``F.scaled_dot_product_attention`` on CPU falls back to its
"math" path: the full (N, H, Lq, Lk) score, probability, mask and gradient tensors go through main
memory several times, and the mask comes from a per-element Bernoulli draw. For LMIM's alignment
decoder (ViT-S, batch 32, 16 heads, 257 x 257) one such call takes ~1 s forward + backward on a
2-core CPU, five times the dropout-free call. :func:`attention` runs that case blockwise instead,
a few samples at a time so that each block's scores stay in cache, with the cheap masks of
:func:`~lmim_mm.models.layers.dropout.dropout_mask`: ~3x faster. Everything else (no dropout, or a
GPU, whose fused kernels handle dropout) goes to ``F.scaled_dot_product_attention``.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from .dropout import dropout_mask

#: Bytes of attention probabilities per block of :class:`BlockwiseDropoutAttention` (about one
#: sample of LMIM's alignment decoder: 16 heads x 257 x 257 float32); measured best on a 2-core CPU.
BLOCK_BYTES = 4 * 2**20


def _rows_per_block(probs_shape: Tuple[int, ...], element_size: int) -> int:
    """Samples per block so that a block's (H, Lq, Lk) probabilities take about :data:`BLOCK_BYTES`."""
    return max(1, BLOCK_BYTES // (element_size * math.prod(probs_shape[1:])))


def _block_mask(attn_mask: Optional[torch.Tensor], start: int, end: int) -> Optional[torch.Tensor]:
    """Rows ``start:end`` of a mask broadcastable to (N, H, Lq, Lk) (a leading 1 is shared)."""
    if attn_mask is None or attn_mask.dim() < 4 or attn_mask.shape[0] == 1:
        return attn_mask
    return attn_mask[start:end]


class BlockwiseDropoutAttention(torch.autograd.Function):
    """``softmax(q k^T / sqrt(d) [masked]) -> dropout -> @ v``, a few samples at a time.

    Forward keeps, per sample block, the probabilities and the dropout mask for backward (as the
    unfused path does); backward recomputes nothing and uses ``rowsum(dP * P) = rowsum(dO * O)``
    (flash attention's identity) so that the softmax gradient needs no extra pass over the
    probabilities. Dropout scaling ``1 / (1 - p)`` is applied to the (N, H, Lq, Dv) output rather
    than to the probabilities.
    """

    @staticmethod
    def forward(ctx, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attn_mask: Optional[torch.Tensor],
                dropout_p: float) -> torch.Tensor:
        scale = query.shape[-1]**-0.5
        n = query.shape[0]
        probs = query.new_empty(*query.shape[:-1], key.shape[-2])
        drop = torch.empty(probs.shape, dtype=torch.bool, device=query.device)
        out = query.new_empty(*query.shape[:-1], value.shape[-1])
        step = _rows_per_block(tuple(probs.shape), probs.element_size())
        for start in range(0, n, step):
            end = min(n, start + step)
            scores = torch.matmul(query[start:end] * scale, key[start:end].transpose(-2, -1))
            mask = _block_mask(attn_mask, start, end)
            if mask is not None:
                scores.masked_fill_(~mask, float('-inf'))
            block_probs = torch.softmax(scores, dim=-1, out=probs[start:end])
            block_drop = drop[start:end]
            block_drop.copy_(dropout_mask(block_drop.shape, dropout_p, query.device))
            torch.matmul(block_probs.masked_fill(block_drop, 0.0), value[start:end], out=out[start:end])
        ctx.save_for_backward(query, key, value, probs, drop, out)
        ctx.dropout_p = dropout_p
        return out / (1.0 - dropout_p)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        query, key, value, probs, drop, out = ctx.saved_tensors
        scale = query.shape[-1]**-0.5
        grad_out = grad_out / (1.0 - ctx.dropout_p)  # gradient of the unscaled output `out`
        grad_q, grad_k, grad_v = torch.empty_like(query), torch.empty_like(key), torch.empty_like(value)
        step = _rows_per_block(tuple(probs.shape), probs.element_size())
        for start in range(0, query.shape[0], step):
            rows = slice(start, min(query.shape[0], start + step))
            block_probs, block_drop, block_grad = probs[rows], drop[rows], grad_out[rows]
            torch.matmul(block_probs.masked_fill(block_drop, 0.0).transpose(-2, -1), block_grad, out=grad_v[rows])
            row_dot = (block_grad * out[rows]).sum(-1, keepdim=True)  # = rowsum(dP * P) of the kept weights
            grad_scores = torch.matmul(block_grad, value[rows].transpose(-2, -1))
            grad_scores.masked_fill_(block_drop, 0.0).sub_(row_dot).mul_(block_probs)
            torch.matmul(grad_scores, key[rows], out=grad_q[rows]).mul_(scale)
            torch.matmul(grad_scores.transpose(-2, -1), query[rows], out=grad_k[rows]).mul_(scale)
        return grad_q, grad_k, grad_v, None, None


def attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attn_mask: Optional[torch.Tensor] = None,
              dropout_p: float = 0.0) -> torch.Tensor:
    """Scaled dot-product attention; the dropout, if any, is on the attention weights.

    Same contract as ``F.scaled_dot_product_attention`` for bool masks. Dropout on a CPU runs
    :class:`BlockwiseDropoutAttention` (its masks: :func:`~lmim_mm.models.layers.dropout.dropout_mask`); all other cases
    run ``F.scaled_dot_product_attention``.

    Args:
        query: (N, H, Lq, D).
        key: (N, H, Lk, D).
        value: (N, H, Lk, Dv).
        attn_mask: Bool mask broadcastable to (N, H, Lq, Lk), True = may attend; every query must be
            allowed at least one key.
        dropout_p: Drop probability of attention weights (pass 0 outside training).

    Returns:
        (N, H, Lq, Dv).
    """
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f'dropout_p must be in [0, 1), got {dropout_p}')
    if attn_mask is not None and attn_mask.dtype != torch.bool:
        raise TypeError(f'attn_mask must be a bool tensor, got {attn_mask.dtype}')
    if dropout_p == 0.0 or query.device.type != 'cpu':
        return F.scaled_dot_product_attention(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p)
    return BlockwiseDropoutAttention.apply(query, key, value, attn_mask, dropout_p)
