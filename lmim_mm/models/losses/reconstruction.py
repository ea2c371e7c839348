"""Reconstruction losses of masked image modelling (MAE pixels, LMIM features)."""
from typing import Literal

import torch

Reduction = Literal['mean', 'none']


def masked_token_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                     reduction: Reduction = 'mean') -> torch.Tensor:
    """Per-token mean squared error, averaged over the masked tokens (MAE's ``forward_loss``).

    Computed in float32 whatever the autocast dtype of ``pred`` / ``target``.

    Args:
        pred: Predictions (N, L, C).
        target: Targets (N, L, C).
        mask: (N, L), 1 / True = masked (the tokens that count).
        reduction: ``'mean'``: one scalar, ``sum(err * mask) / sum(mask)`` over the batch;
            ``'none'``: one value per sample (N,), the mean over that sample's masked tokens.

    Returns:
        The loss, a scalar or (N,).
    """
    if pred.shape != target.shape:
        raise ValueError(f'pred {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape')
    if tuple(mask.shape) != tuple(pred.shape[:2]):
        raise ValueError(f'mask must have shape {tuple(pred.shape[:2])}, got {tuple(mask.shape)}')
    per_token = (pred.float() - target.float()).pow(2).mean(dim=-1)
    mask = mask.to(per_token.dtype)
    if reduction == 'mean':
        return (per_token * mask).sum() / mask.sum()
    if reduction == 'none':
        return (per_token * mask).sum(dim=1) / mask.sum(dim=1)
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def feature_mse(x: torch.Tensor, y: torch.Tensor, reduction: Reduction = 'mean') -> torch.Tensor:
    """Mean squared difference of two feature batches (LMIM's [cls] alignment), in float32.

    Args:
        x: Features (N, C).
        y: Features (N, C).
        reduction: ``'mean'`` over all elements, or ``'none'``: the mean over C per sample (N,).

    Returns:
        The loss, a scalar or (N,).
    """
    if x.shape != y.shape:
        raise ValueError(f'feature shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}')
    per_sample = (x.float() - y.float()).pow(2).flatten(1).mean(dim=1)
    if reduction == 'mean':
        return per_sample.mean()
    if reduction == 'none':
        return per_sample
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
