from typing import Dict

import torch
from mmpretrain.registry import MODELS

from ..losses.reconstruction import Reduction
from .base import MaskedSelfSupervisor


@MODELS.register_module()
class TextMAE(MaskedSelfSupervisor):
    """Masked autoencoder on 32x128 word images (MAERec's pretraining): norm-pix MSE on masked 4x4 patches. The masks
    come from the pipeline: random patches (MAE, ratio 0.75) or, for MMS (Tang et al. 2025), ``MixedMaskGenerator``
    (random patch, blockwise and span masks chosen per sample). Arguments: :class:`MaskedSelfSupervisor`'s, with a
    :class:`~lmim_mm.models.necks.TextMAEDecoder` neck and a :class:`~lmim_mm.models.heads.TextMAEHead` head."""

    def reconstruct(self, imgs: torch.Tensor, *, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Visible patches of ``imgs`` (N, C, H, W) encoded, all decoded: ``pred`` (N, L, p * p * C), imgs, mask."""
        latent, _, ids_restore = self.backbone.forward_masked(imgs, mask)
        return dict(pred=self.neck(latent, ids_restore), imgs=imgs, mask=mask)

    def losses(self, out: Dict[str, torch.Tensor], reduction: Reduction = 'mean') -> Dict[str, torch.Tensor]:
        """``{'loss_recon': ...}``."""
        return self.head.loss(out['pred'], out['imgs'], out['mask'], reduction)

    def pictures(self, out: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """``pred_image`` (N, C, H, W): the input with its masked patches predicted (``TextMAEHead.reconstruct``)."""
        return dict(pred_image=self.head.reconstruct(out['pred'].float(), out['imgs'], out['mask']))
