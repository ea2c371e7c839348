"""LMIM's losses: teacher-feature reconstruction of masked tokens plus [cls] alignment of two views."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from lmim_mm.registry import register
from ..losses.reconstruction import Reduction, feature_mse, masked_token_mse


@register('MODELS')
class LMIMHead(BaseModule):
    """``loss_recon`` on the teacher's normalised patch features and ``loss_align`` on [cls] tokens.

    Args:
        align_weight: Weight of ``loss_align`` (the authors use 1).
        target_norm_eps: Epsilon of the affine-free LayerNorm applied to the teacher's features
            (``F.layer_norm``'s default 1e-5, as the authors).
        target_instance_norm: Before that LayerNorm, standardise every channel over the patch
            tokens of each image (data2vec 2.0's ``instance_norm_target_layer``): what all tokens of
            a word share (colour, background) leaves the target, so the student cannot lower the
            loss by predicting the image's mean token. False (the authors): no such step.
        init_cfg: mmengine init config.
    """

    def __init__(self, align_weight: float = 1.0, target_norm_eps: float = 1e-5, target_instance_norm: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.align_weight = align_weight
        self.target_norm_eps = target_norm_eps
        self.target_instance_norm = target_instance_norm

    def construct_target(self, teacher_tokens: torch.Tensor) -> torch.Tensor:
        """Teacher output (N, 1 + L, C) -> patch targets (N, L, C): [cls] dropped, optionally
        standardised per image and channel over the L tokens, then normalised per token."""
        patches = teacher_tokens[:, 1:]
        if self.target_instance_norm:
            patches = F.instance_norm(patches.transpose(1, 2), eps=self.target_norm_eps).transpose(1, 2)
        return F.layer_norm(patches, patches.shape[-1:], eps=self.target_norm_eps)

    def loss(self, pred: torch.Tensor, teacher_tokens: torch.Tensor, mask: torch.Tensor, cls_masked: torch.Tensor,
             cls_guidance: torch.Tensor, reduction: Reduction = 'mean') -> Dict[str, torch.Tensor]:
        """Both LMIM losses.

        Args:
            pred: Decoder predictions (N, L, C).
            teacher_tokens: Teacher output on the clean view, all tokens, (N, 1 + L, C).
            mask: (N, L), 1 = masked.
            cls_masked: Student [cls] output on the masked clean view, (N, C_s).
            cls_guidance: Student [cls] output on the unmasked guidance view, (N, C_s); no
                stop-gradient on either side.
            reduction: ``'mean'`` (scalars) or ``'none'`` (per sample, (N,)).

        Returns:
            ``{'loss_recon': ..., 'loss_align': ...}`` (``loss_align`` already weighted).
        """
        return {
            'loss_recon': masked_token_mse(pred, self.construct_target(teacher_tokens), mask, reduction),
            'loss_align': self.align_weight * feature_mse(cls_masked, cls_guidance, reduction),
        }
