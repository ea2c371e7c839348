"""LMIM (Linguistics-aware Masked Image Modeling, CVPR 2025) pretraining."""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..losses.reconstruction import Reduction
from .base import Inputs, MaskedSelfSupervisor


def freeze_as_buffers(module: nn.Module) -> None:
    """Turn every parameter of ``module`` into a persistent buffer of the same name: same function and ``state_dict``
    keys, but nothing can train it and optimizer constructors never see it."""
    for sub in module.modules():
        for name, param in list(sub._parameters.items()):
            if param is not None:
                del sub._parameters[name]
                sub.register_buffer(name, param.detach())


@MODELS.register_module()
class LMIM(MaskedSelfSupervisor):
    """LMIM: reconstruct a frozen MAE teacher's features of masked tokens, guided by a second view.

    Per batch (``inputs = [clean, guidance]``, :meth:`reconstruct`): the student encodes the masked clean view and the
    guidance view; the neck's (:class:`~lmim_mm.models.necks.AlignmentDecoder`) queries come from the first, its memory
    from the second; the target is the teacher's output on the clean view (:class:`~lmim_mm.models.heads.LMIMHead`). The
    teacher (the backbone's architecture, weights as buffers saved as ``teacher.*``) always runs in eval mode under
    ``no_grad``. It loads like any pretrained TextViT, by its ``init_cfg`` (strictly): an lmim_mm MAE / MMS checkpoint
    with ``prefix='backbone.'``, or MAERec's MAE checkpoint (the authors' ``--teacher_weight``) after ``python
    tools/model_converters/maerec_mae_to_mm.py SRC DST --prefix backbone.`` (loading the authors' file fails, naming
    that command). Arguments not listed are :class:`MaskedSelfSupervisor`'s.

    Args:
        teacher_init_cfg: E.g. ``Pretrained`` with a ``prefix``; None (or no checkpoint): a copy of the student.
        teacher_momentum: None (the authors): a fixed teacher; a float ``m``: before each training step
            ``teacher <- m * teacher + (1 - m) * student`` (EMA).
        init_student_from_teacher: Start the student from the loaded teacher (False, the authors: from its random init).
    """
    num_views = 2

    def __init__(self, backbone: dict, neck: dict, head: dict, teacher_init_cfg: Optional[dict] = None,
                 teacher_momentum: Optional[float] = None, data_preprocessor: Optional[dict] = None,
                 init_student_from_teacher: bool = False, init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        if teacher_momentum is not None and not 0.0 <= teacher_momentum <= 1.0:
            raise ValueError(f'teacher_momentum must be in [0, 1] or None, got {teacher_momentum}')
        self.init_student_from_teacher = init_student_from_teacher
        self.teacher_momentum = teacher_momentum
        self.teacher = copy.deepcopy(self.backbone)
        self.teacher.init_cfg = copy.deepcopy(teacher_init_cfg)
        freeze_as_buffers(self.teacher)
        self.teacher.eval()

    def init_weights(self) -> None:
        """Initialise every part, then copy the student to the teacher or back, as the class docstring says."""
        super().init_weights()
        if not (self.teacher.init_cfg or {}).get('checkpoint'):
            self.teacher.load_state_dict(self.backbone.state_dict())
        elif self.init_student_from_teacher:
            self.backbone.load_state_dict(self.teacher.state_dict())

    def train(self, mode: bool = True) -> 'LMIM':
        """Set the training mode of everything but the teacher, which stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def reconstruct(self, clean: torch.Tensor, guidance: torch.Tensor, *,
                    mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Student on the masked clean view (``mask`` bool (N, L), True = masked) and the guidance view, teacher on the
        clean view, decoder; views (N, C, H, W) normalised. Returns ``pred`` (N, L, C_t), ``teacher`` (N, 1 + L, C_t)
        raw teacher output, ``mask``, ``cls_masked`` and ``cls_guidance`` (N, C_s)."""
        latent, _, ids_restore = self.backbone.forward_masked(clean, mask)
        guide = self.backbone(guidance)[0]
        with torch.no_grad():
            teacher = self.teacher(clean)[0]
        return dict(pred=self.neck(latent, ids_restore, guide), teacher=teacher, mask=mask,
                    cls_masked=latent[:, 0], cls_guidance=guide[:, 0])

    def losses(self, out: Dict[str, torch.Tensor], reduction: Reduction = 'mean') -> Dict[str, torch.Tensor]:
        """``loss_recon`` and ``loss_align``."""
        return self.head.loss(out['pred'], out['teacher'], out['mask'], out['cls_masked'], out['cls_guidance'],
                              reduction)

    def pictures(self, out: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """``pred_similarity`` (N, L): per-token cosine similarity of prediction and target."""
        target = self.head.construct_target(out['teacher'])
        return dict(pred_similarity=F.cosine_similarity(out['pred'].float(), target.float(), dim=-1))

    def loss(self, inputs: Inputs, data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        """Scalar losses of a training batch; the teacher's EMA update (if enabled) comes first."""
        if self.training and self.teacher_momentum is not None:
            for name, param in self.backbone.named_parameters():
                self.teacher.get_buffer(name).lerp_(param.detach(), 1.0 - self.teacher_momentum)
        return super().loss(inputs, data_samples)
