from typing import Dict, Sequence

import torch
from mmpretrain.models.heads import MAEPretrainHead
from mmpretrain.registry import MODELS

from ..losses import Reduction


@MODELS.register_module()
class TextMAEHead(MAEPretrainHead):
    """Norm-pix MSE on masked patches (MAE), tokens row-major over the (H / p, W / p) grid (8 x 32).

    Args:
        norm_pix: Normalise every target patch by its mean and (unbiased) variance + 1e-6, as MAE.
        loss: Loss config, called as ``loss(pred, target, mask, reduction)``.
    """

    def __init__(self, patch_size: int = 4, norm_pix: bool = True, in_channels: int = 3,
                 loss: dict = dict(type='MaskedMSELoss')) -> None:
        super().__init__(loss, norm_pix, patch_size, in_channels)

    def patchify(self, imgs: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, H/p * W/p, p * p * C), MAE's layout (row, column, channel per patch)."""
        n, c, h, w = imgs.shape
        p = self.patch_size
        if h % p or w % p:
            raise ValueError(f'image size {(h, w)} is not divisible by patch_size {p}')
        x = imgs.reshape(n, c, h // p, p, w // p, p)
        return torch.einsum('nchpwq->nhwpqc', x).reshape(n, (h // p) * (w // p), p * p * c)

    def unpatchify(self, x: torch.Tensor, grid: Sequence[int]) -> torch.Tensor:
        """Inverse of :meth:`patchify`: (N, h * w, p * p * C) on the token grid (h, w) -> (N, C, h * p, w * p)."""
        (h, w), p = grid, self.patch_size
        if x.shape[1] != h * w or x.shape[2] % (p * p):
            raise ValueError(f'{tuple(x.shape)} is not (N, {h * w}, p * p * C) for grid {(h, w)} and patch {p}')
        x = x.reshape(x.shape[0], h, w, p, p, -1)
        return torch.einsum('nhwpqc->nchpwq', x).reshape(x.shape[0], -1, h * p, w * p)

    def reconstruct(self, pred: torch.Tensor, imgs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The (normalised) input ``imgs`` (N, C, H, W) with its masked patches (``mask`` (N, L) True) replaced by the
        predicted ``pred`` (N, L, p * p * C), norm-pix undone with the true patches' statistics (as MAE's pictures)."""
        patches = self.patchify(imgs.float())
        if self.norm_pix:  # the variance + 1e-6 of mmpretrain's construct_target
            pred = pred * (patches.var(-1, keepdim=True) + 1e-6).sqrt() + patches.mean(-1, keepdim=True)
        grid = (imgs.shape[2] // self.patch_size, imgs.shape[3] // self.patch_size)
        return self.unpatchify(torch.where(mask[..., None], pred, patches), grid)

    def loss(self, pred: torch.Tensor, imgs: torch.Tensor, mask: torch.Tensor,
             reduction: Reduction = 'mean') -> Dict[str, torch.Tensor]:
        """``loss_recon`` of pred (N, L, p * p * C), imgs (N, C, H, W), mask (N, L): a scalar, or (N,) (``'none'``)."""
        return {'loss_recon': self.loss_module(pred, self.construct_target(imgs.float()), mask, reduction)}
