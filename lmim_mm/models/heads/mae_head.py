"""Pixel-reconstruction loss head of MAE for text images (norm-pix MSE on masked patches)."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModule

from lmim_mm.registry import register
from ..losses.reconstruction import Reduction, masked_token_mse


@register('MODELS')
class TextMAEHead(BaseModule):
    """MAE loss: mean squared error of masked patches against (normalised) pixels.

    Args:
        patch_size: Patch side; tokens are row-major over the (H / p, W / p) grid (8 x 32).
        norm_pix: Normalise every target patch by its own mean and (unbiased) variance, as MAE.
        norm_pix_eps: Added to the variance.
        init_cfg: mmengine init config.
    """

    def __init__(self, patch_size: int = 4, norm_pix: bool = True, norm_pix_eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.patch_size = patch_size
        self.norm_pix = norm_pix
        self.norm_pix_eps = norm_pix_eps

    def patchify(self, imgs: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, H/p * W/p, p * p * C), MAE's layout (row, column, channel per patch)."""
        n, c, h, w = imgs.shape
        p = self.patch_size
        if h % p or w % p:
            raise ValueError(f'image size {(h, w)} is not divisible by patch_size {p}')
        x = imgs.reshape(n, c, h // p, p, w // p, p)
        return torch.einsum('nchpwq->nhwpqc', x).reshape(n, (h // p) * (w // p), p * p * c)

    def construct_target(self, imgs: torch.Tensor) -> torch.Tensor:
        """Target pixels per patch, (N, L, p * p * C), normalised per patch if ``norm_pix``."""
        target = self.patchify(imgs.float())
        if self.norm_pix:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + self.norm_pix_eps).sqrt()
        return target

    def loss(self, pred: torch.Tensor, imgs: torch.Tensor, mask: torch.Tensor,
             reduction: Reduction = 'mean') -> Dict[str, torch.Tensor]:
        """Reconstruction loss on masked patches.

        Args:
            pred: Decoder output (N, L, p * p * C).
            imgs: The (normalised) input images (N, C, H, W).
            mask: (N, L), 1 = masked.
            reduction: ``'mean'`` (scalar) or ``'none'`` (per sample, (N,)).

        Returns:
            ``{'loss_recon': loss}``.
        """
        return {'loss_recon': masked_token_mse(pred, self.construct_target(imgs), mask, reduction)}
