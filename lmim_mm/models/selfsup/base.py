"""Shared machinery of masked-image-modelling algorithms on text images (MAE, MMS, LMIM)."""
from abc import abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.registry import DefaultScope
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.structures import DataSample

from .. import backbones, heads, necks  # noqa: F401  (registers the components the algorithms build)
from ..losses.reconstruction import Reduction
from ..utils.masking import BaseMaskGenerator, build_mask_generator, num_kept

Inputs = Union[torch.Tensor, Sequence[torch.Tensor]]


def as_views(inputs: Inputs, num_views: int) -> List[torch.Tensor]:
    """The image views of a batch: a tensor (N, C, H, W) is one view, a list holds several.

    Raises:
        ValueError: fewer views than ``num_views``.
    """
    views = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    if len(views) < num_views:
        raise ValueError(f'expected {num_views} image view(s) in inputs, got {len(views)}')
    return views


class MaskedSelfSupervisor(BaseSelfSupervisor):
    """Base of the masked-image-modelling algorithms: masking, losses, per-sample evaluation.

    Subclasses implement :meth:`compute_losses`. Modes of ``forward``: ``'loss'`` (dict of
    scalar losses, summed by mmengine), ``'tensor'`` (backbone features of the first view) and
    ``'predict'`` (per-sample losses in ``DataSample.pred_loss``, with masks drawn from a fixed
    seed so evaluation is repeatable; see :class:`ReconstructionLossMetric`).

    Args:
        backbone: A :class:`~lmim_mm.models.backbones.TextViT` config with ``out_type='raw'``.
        neck: Decoder config.
        head: Loss head config.
        mask_ratio: Ratio of TextViT's own random masking, used when ``mask_generator`` is None.
        mask_generator: A mask generator config (``lmim_mm.models.utils.masking``); its ratio wins.
        eval_mask_seed: Seed of the masks drawn in ``'predict'`` mode.
        data_preprocessor: Defaults to mmpretrain's ``SelfSupDataPreprocessor``.
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, mask_ratio: float = 0.75,
                 mask_generator: Optional[Union[dict, BaseMaskGenerator]] = None, eval_mask_seed: int = 0,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        # Parts are built in mmpretrain's scope (SelfSupDataPreprocessor lives there), whatever the
        # caller's default scope is (e.g. 'mmocr' in a mixed pipeline or a test session).
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            super().__init__(backbone=backbone, neck=neck, head=head, data_preprocessor=data_preprocessor,
                             init_cfg=init_cfg)
        if getattr(self.backbone, 'out_type', 'raw') != 'raw':
            raise ValueError(f"{type(self).__name__} needs a backbone with out_type='raw', got "
                             f'{self.backbone.out_type!r}')
        self.mask_ratio = mask_ratio
        self.mask_generator = None if mask_generator is None else build_mask_generator(mask_generator)
        # masks that hide no token (NaN loss) or all of them are refused now, not at the first loss
        if self.mask_generator is None:
            num_kept(self.backbone.num_patches, mask_ratio, type(self).__name__, 'mask_ratio', partial=True)
        elif not 0 < self.mask_generator.num_masked < self.mask_generator.num_tokens:
            raise ValueError(f'{type(self).__name__}: mask_generator {self.mask_generator} masks '
                             f'{self.mask_generator.num_masked} of {self.mask_generator.num_tokens} tokens; it '
                             f'must mask at least one and leave at least one visible')
        self.eval_mask_seed = eval_mask_seed

    def encode_masked(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None,
                      generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Student on the visible tokens of ``x``.

        Args:
            x: Images (N, C, H, W).
            mask: Explicit (N, L) mask, 1 = removed; else the mask generator, else random masking.
            generator: Random generator for the mask (on ``x.device``).

        Returns:
            latent (N, 1 + L_keep, D), mask (N, L) float with 1 = removed, ids_restore (N, L).
        """
        if mask is None and self.mask_generator is not None:
            mask = self.mask_generator(x.shape[0], device=x.device, generator=generator)
        return self.backbone.forward_masked(x, mask=mask, mask_ratio=self.mask_ratio, generator=generator)

    @abstractmethod
    def compute_losses(self, inputs: Inputs, reduction: Reduction = 'mean', mask: Optional[torch.Tensor] = None,
                       generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
        """Weighted losses of a normalised batch.

        Args:
            inputs: Normalised images, one tensor or a list of views.
            reduction: ``'mean'`` (scalars) or ``'none'`` (per sample, (N,)).
            mask: Explicit (N, L) mask, 1 = removed (parity checks); else one is drawn.
            generator: Random generator for the mask.

        Returns:
            Losses whose names start with ``loss``.
        """

    def extract_feat(self, inputs: Inputs) -> Tuple[torch.Tensor, ...]:
        """Backbone output on the first view: a 1-tuple with (N, 1 + L, D)."""
        return self.backbone(as_views(inputs, 1)[0])

    def loss(self, inputs: Inputs, data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Scalar losses of a training batch (masks drawn at random)."""
        return self.compute_losses(inputs)

    @torch.no_grad()
    def predict(self, inputs: Inputs, data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """Per-sample losses of a held-out batch, with masks from ``eval_mask_seed``.

        Returns:
            One ``DataSample`` per image whose ``pred_loss`` is a dict of 0-d tensors: ``loss``
            (the total) and each loss term.
        """
        device = as_views(inputs, 1)[0].device
        generator = torch.Generator(device=device).manual_seed(self.eval_mask_seed)
        losses = self.compute_losses(inputs, reduction='none', generator=generator)
        losses = {'loss': torch.stack(list(losses.values())).sum(dim=0), **losses}
        num = next(iter(losses.values())).shape[0]
        data_samples = list(data_samples) if data_samples is not None else [DataSample() for _ in range(num)]
        for index, sample in enumerate(data_samples):
            sample.set_field({name: value[index] for name, value in losses.items()}, 'pred_loss')
        return data_samples

    def forward(self, inputs: Inputs, data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor') -> Union[Tuple[torch.Tensor, ...], Dict[str, torch.Tensor], List[DataSample]]:
        """``'tensor'``, ``'loss'`` or ``'predict'`` (see the class docstring)."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)
