from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ..losses import Reduction


@MODELS.register_module()
class LMIMHead(BaseModule):
    """``loss_recon`` on the teacher's normalised patch features and ``loss_align`` on [cls] tokens.

    Args:
        align_weight: Weight of ``loss_align`` (the authors use 1).
        target_instance_norm: Before the affine-free LayerNorm of the teacher's features, standardise every channel
            over the patch tokens of each image (data2vec 2.0's ``instance_norm_target_layer``), so what all tokens of
            a word share leaves the target. False: the authors' target.
        loss: Reconstruction loss config, called as ``loss(pred, target, mask, reduction)``.
    """

    def __init__(self, align_weight: float = 1.0, target_instance_norm: bool = False,
                 loss: dict = dict(type='MaskedMSELoss')) -> None:
        super().__init__()
        self.align_weight = align_weight
        self.target_instance_norm = target_instance_norm
        self.loss_module = MODELS.build(loss)

    def construct_target(self, teacher_tokens: torch.Tensor) -> torch.Tensor:
        """Teacher output (N, 1 + L, C) -> patch targets (N, L, C): [cls] dropped, normalised per token (eps 1e-5)."""
        patches = teacher_tokens[:, 1:]
        if self.target_instance_norm:
            patches = F.instance_norm(patches.transpose(1, 2)).transpose(1, 2)
        return F.layer_norm(patches, patches.shape[-1:])

    def loss(self, pred: torch.Tensor, teacher_tokens: torch.Tensor, mask: torch.Tensor, cls_masked: torch.Tensor,
             cls_guidance: torch.Tensor, reduction: Reduction = 'mean') -> Dict[str, torch.Tensor]:
        """``loss_recon`` of the decoder's ``pred`` (N, L, C) against the teacher's output on the clean view
        ``teacher_tokens`` (N, 1 + L, C) on the masked tokens (``mask`` (N, L) True), and the weighted ``loss_align`` of
        the student's [cls] tokens ``cls_masked`` (masked clean view) and ``cls_guidance`` (guidance view), (N, C_s)
        each, gradients into both: scalars, or (N,) each with ``reduction='none'``."""
        align = (cls_masked.float() - cls_guidance.float()).pow(2).mean(-1)
        return {'loss_recon': self.loss_module(pred, self.construct_target(teacher_tokens), mask, reduction),
                'loss_align': self.align_weight * (align.mean() if reduction == 'mean' else align)}
