from typing import Literal

import torch
from mmpretrain.models.losses import PixelReconstructionLoss
from mmpretrain.registry import MODELS

Reduction = Literal['mean', 'none']


@MODELS.register_module()
class MaskedMSELoss(PixelReconstructionLoss):
    """Per-token mean squared error averaged over the masked tokens (MAE's ``forward_loss``). ``reduction='mean'`` is
    mmpretrain's ``PixelReconstructionLoss(criterion='L2')``: one scalar, ``sum(err * mask) / sum(mask)`` over the
    batch; ``'none'`` gives each sample's mean over its masked tokens, (N,). Computed in float32 whatever the autocast
    dtype of the inputs."""

    def __init__(self) -> None:
        super().__init__(criterion='L2')

    def forward(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                reduction: Reduction = 'mean') -> torch.Tensor:
        """Args: pred, target (N, L, C); mask (N, L), True / 1 = masked (counts). Returns: scalar or (N,)."""
        if pred.shape != target.shape or tuple(mask.shape) != tuple(pred.shape[:2]):
            raise ValueError(f'pred {tuple(pred.shape)}, target {tuple(target.shape)} and mask {tuple(mask.shape)} '
                             f'do not fit (N, L, C), (N, L, C), (N, L)')
        pred, target, mask = pred.float(), target.float(), mask.float()
        if reduction == 'mean':
            return super().forward(pred, target, mask)
        if reduction == 'none':
            return (self.penalty(pred, target).mean(-1) * mask).sum(1) / mask.sum(1)
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
