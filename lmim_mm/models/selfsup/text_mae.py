"""MAE for text images (MAERec's pretraining) and MMS (multiple masking strategies)."""
from typing import Dict, Optional, Union

import torch

from lmim_mm.registry import register
from ..losses.reconstruction import Reduction
from ..utils.masking import BaseMaskGenerator
from .base import Inputs, MaskedSelfSupervisor, as_views


@register('MODELS')
class TextMAE(MaskedSelfSupervisor):
    """Masked autoencoder on 32 x 128 word images: norm-pix MSE on the masked 4 x 4 patches.

    Args:
        backbone: TextViT config.
        neck: :class:`~lmim_mm.models.necks.TextMAEDecoder` config.
        head: :class:`~lmim_mm.models.heads.TextMAEHead` config.
        mask_ratio: Random masking ratio (MAE: 0.75) when ``mask_generator`` is None.
        mask_generator: Optional mask generator config (block, span or mixed masking).
        eval_mask_seed: Seed of the masks in ``'predict'`` mode.
        data_preprocessor: Defaults to ``SelfSupDataPreprocessor``.
        init_cfg: mmengine init config.
    """

    def compute_losses(self, inputs: Inputs, reduction: Reduction = 'mean', mask: Optional[torch.Tensor] = None,
                       generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
        """``{'loss_recon': ...}`` of the first view (see :meth:`MaskedSelfSupervisor.compute_losses`)."""
        imgs = as_views(inputs, 1)[0]
        latent, mask, ids_restore = self.encode_masked(imgs, mask, generator)
        return self.head.loss(self.neck(latent, ids_restore), imgs, mask, reduction)


@register('MODELS')
class MMS(TextMAE):
    """MMS (Tang et al. 2025): :class:`TextMAE` whose masks mix random-patch, blockwise and span masking.

    Each sample's mask comes from one strategy, chosen per sample; all masks of a batch mask the
    same number of tokens. The default is ``MixedMaskGenerator()``: the three strategies with equal
    probability at ratio 0.75 (192 of 256 tokens; span masking: 24 whole columns).

    Args:
        backbone: TextViT config.
        neck: :class:`~lmim_mm.models.necks.TextMAEDecoder` config.
        head: :class:`~lmim_mm.models.heads.TextMAEHead` config.
        mask_generator: Mask generator config; None means ``dict(type='MixedMaskGenerator')``.
        eval_mask_seed: Seed of the masks in ``'predict'`` mode.
        data_preprocessor: Defaults to ``SelfSupDataPreprocessor``.
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 mask_generator: Optional[Union[dict, BaseMaskGenerator]] = None,
                 eval_mask_seed: int = 0, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, neck, head, mask_generator=mask_generator or dict(type='MixedMaskGenerator'),
                         eval_mask_seed=eval_mask_seed,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
