"""LMIM (Linguistics-aware Masked Image Modeling, CVPR 2025) pretraining."""
import copy
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmpretrain.structures import DataSample

from lmim_mm.converters.maerec_mae import convert_maerec_mae, read_authors_checkpoint
from lmim_mm.registry import register
from lmim_mm.utils.checkpoint import load_strict
from ..losses.reconstruction import Reduction
from ..utils.masking import BaseMaskGenerator
from .base import Inputs, MaskedSelfSupervisor, as_views


def freeze_as_buffers(module: nn.Module) -> None:
    """Turn every parameter of ``module`` into a persistent buffer of the same name.

    The module keeps computing the same function and its ``state_dict`` keeps its keys, but it has
    no parameters any more: nothing can train it, and optimizer constructors (which walk
    ``model.parameters()``) never see it.
    """
    for sub in module.modules():
        for name, param in list(sub._parameters.items()):
            if param is not None:
                del sub._parameters[name]
                sub.register_buffer(name, param.detach())


@register('MODELS')
class LMIM(MaskedSelfSupervisor):
    """LMIM: reconstruct a frozen MAE teacher's features of masked tokens, guided by a second view.

    Per batch (``inputs = [clean, guidance]``, normalised): the student encodes the clean view
    with masking (ratio 0.8) and the guidance view unmasked; the alignment decoder's queries come
    from the masked view, its memory from the guidance view; the target is the teacher's output on
    the unmasked clean view. Losses (:class:`~lmim_mm.models.heads.LMIMHead`): ``loss_recon`` on
    the masked tokens and ``loss_align`` between the student's two [cls] outputs.

    The teacher has the backbone's architecture. Its weights are buffers (see
    :func:`freeze_as_buffers`): never trained, never handed to an optimizer, saved in checkpoints
    as ``teacher.*``; it runs in eval mode whatever ``train()`` sets, under ``torch.no_grad``.
    Its weights come from ``teacher_checkpoint`` in :meth:`init_weights`, else from the student;
    with ``init_student_from_teacher`` the student then starts from the teacher's weights.

    Args:
        backbone: Student TextViT config (``out_type='raw'``).
        neck: :class:`~lmim_mm.models.necks.AlignmentDecoder` config.
        head: :class:`~lmim_mm.models.heads.LMIMHead` config.
        teacher_checkpoint: MAERec MAE checkpoint (``{'model': ...}``, decoder keys are dropped),
            an lmim_mm TextMAE / MMS checkpoint (its ``backbone.*``) or a TextViT state dict file,
            loaded into the teacher by :meth:`init_weights`.
        teacher_momentum: None (the authors' setting): a fixed teacher. A float ``m``: before each
            training step the teacher becomes ``m * teacher + (1 - m) * student`` (EMA).
        mask_ratio: Random masking ratio (0.8) when ``mask_generator`` is None.
        mask_generator: Optional mask generator config (e.g. blockwise masking).
        eval_mask_seed: Seed of the masks in ``'predict'`` mode.
        data_preprocessor: Defaults to ``SelfSupDataPreprocessor``.
        init_student_from_teacher: Start the student from the weights loaded from
            ``teacher_checkpoint``: it begins with the teacher's features instead of a random
            encoder's (without a checkpoint the teacher is a copy of the student anyway). False (the
            authors): the student starts from its random init.
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, teacher_checkpoint: Optional[str] = None,
                 teacher_momentum: Optional[float] = None, mask_ratio: float = 0.8,
                 mask_generator: Optional[Union[dict, BaseMaskGenerator]] = None, eval_mask_seed: int = 0,
                 data_preprocessor: Optional[dict] = None, init_student_from_teacher: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, neck, head, mask_ratio, mask_generator, eval_mask_seed, data_preprocessor,
                         init_cfg)
        if teacher_momentum is not None and not 0.0 <= teacher_momentum <= 1.0:
            raise ValueError(f'teacher_momentum must be in [0, 1] or None, got {teacher_momentum}')
        self.teacher_checkpoint = teacher_checkpoint
        self.init_student_from_teacher = init_student_from_teacher
        self.teacher_momentum = teacher_momentum
        self.teacher = copy.deepcopy(self.backbone)
        self.teacher.init_cfg = None
        freeze_as_buffers(self.teacher)
        self.teacher.eval()

    def init_weights(self) -> None:
        """Initialise student and decoder, then the teacher from ``teacher_checkpoint`` or the student
        (and, with ``init_student_from_teacher``, the student from the loaded teacher)."""
        super().init_weights()
        if self.teacher_checkpoint is None:
            self.teacher.load_state_dict(self.backbone.state_dict())
            return
        self.load_teacher(self.teacher_checkpoint)
        if self.init_student_from_teacher:
            self.backbone.load_state_dict(self.teacher.state_dict())

    def load_teacher(self, path: str) -> None:
        """Load the teacher strictly from an lmim_mm pretraining checkpoint (its ``backbone.*``, e.g. a
        TextMAE / MMS run), an MAERec MAE checkpoint (decoder keys dropped) or a TextViT file."""
        state_dict = read_authors_checkpoint(path)
        if any(key.startswith('backbone.') for key in state_dict):
            state_dict = {k[len('backbone.'):]: v for k, v in state_dict.items() if k.startswith('backbone.')}
        else:
            state_dict, _ = convert_maerec_mae(state_dict, source=path)
        load_strict(self.teacher, state_dict, source=path)

    def train(self, mode: bool = True) -> 'LMIM':
        """Set the training mode of everything but the teacher, which stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    @torch.no_grad()
    def momentum_update(self) -> None:
        """EMA of the student into the teacher: ``teacher <- m * teacher + (1 - m) * student``."""
        weight = 1.0 - self.teacher_momentum
        for name, param in self.backbone.named_parameters():
            self.teacher.get_buffer(name).lerp_(param.detach(), weight)

    def reconstruct(self, clean: torch.Tensor, guidance: torch.Tensor, mask: Optional[torch.Tensor] = None,
                    generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
        """Student, teacher and decoder on one batch.

        Args:
            clean: Clean view (N, C, H, W), normalised.
            guidance: Guidance view (N, C, H, W), normalised.
            mask: Explicit (N, L) mask, 1 = removed; else one is drawn.
            generator: Random generator for the mask.

        Returns:
            ``pred`` (N, L, C_t), ``teacher`` (N, 1 + L, C_t) raw teacher output, ``mask`` (N, L),
            ``cls_masked`` and ``cls_guidance`` (N, C_s).
        """
        latent, mask, ids_restore = self.encode_masked(clean, mask, generator)
        guide = self.backbone(guidance)[0]
        with torch.no_grad():
            teacher = self.teacher(clean)[0]
        return dict(pred=self.neck(latent, ids_restore, guide), teacher=teacher, mask=mask,
                    cls_masked=latent[:, 0], cls_guidance=guide[:, 0])

    def compute_losses(self, inputs: Inputs, reduction: Reduction = 'mean', mask: Optional[torch.Tensor] = None,
                       generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
        """``loss_recon`` and ``loss_align`` of ``inputs = [clean, guidance]``."""
        clean, guidance = as_views(inputs, 2)[:2]
        out = self.reconstruct(clean, guidance, mask, generator)
        return self.head.loss(out['pred'], out['teacher'], out['mask'], out['cls_masked'], out['cls_guidance'],
                              reduction)

    def loss(self, inputs: Inputs, data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Scalar losses of a training batch; the EMA update (if enabled) comes first."""
        if self.training and self.teacher_momentum is not None:
            self.momentum_update()
        return self.compute_losses(inputs)
