from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.structures import DataSample

Inputs = Union[torch.Tensor, Sequence[torch.Tensor]]


class MaskedSelfSupervisor(BaseSelfSupervisor):
    """Base of the masked-image-modelling algorithms (MAE, MMS, LMIM) on text images: views and masks in, losses and
    pictures out. Masks come with the data: a mask transform (:mod:`lmim_mm.datasets.transforms.mask_transform`)
    writes ``data_samples[i].mask``, bool (L,), True = masked, stacked here to (B, L). Subclasses implement
    ``reconstruct(*views, mask=...)`` (a dict of outputs), ``losses(out, reduction)`` and ``pictures(out)``.

    Args:
        backbone: A :class:`~lmim_mm.models.backbones.TextViT` config with ``out_type='raw'``.
        neck: Decoder config.
        head: Loss head config.
        data_preprocessor: Defaults to ``mmpretrain.SelfSupDataPreprocessor`` (built in any default scope).
    """
    num_views = 1

    def __init__(self, backbone: dict, neck: dict, head: dict, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, init_cfg=init_cfg,
                         data_preprocessor=data_preprocessor or dict(type='mmpretrain.SelfSupDataPreprocessor'))
        if getattr(self.backbone, 'out_type', 'raw') != 'raw':
            raise ValueError(f"{type(self).__name__} needs a backbone with out_type='raw', got "
                             f'{self.backbone.out_type!r}')

    def reconstruct_batch(self, inputs: Inputs, data_samples: Sequence[DataSample]) -> Dict[str, torch.Tensor]:
        """``reconstruct`` on a batch: its first :attr:`num_views` views (a tensor is one view) and masks."""
        views = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
        if len(views) < self.num_views:
            raise ValueError(f'{type(self).__name__} expects {self.num_views} image view(s), got {len(views)}')
        if not data_samples or any('mask' not in sample for sample in data_samples):
            raise ValueError(f'{type(self).__name__}: every data sample needs a mask; put a mask transform (e.g. '
                             "dict(type='RandomPatchMaskGenerator', ratio=0.75)) before the pipeline's packing")
        mask = torch.stack([sample.mask for sample in data_samples]).to(views[0].device)
        if mask.dtype != torch.bool:
            raise TypeError(f'{type(self).__name__}: data_samples[i].mask must be bool (True = masked), got '
                            f'{mask.dtype}')
        return self.reconstruct(*views[:self.num_views], mask=mask)

    def extract_feat(self, inputs: Inputs) -> Tuple[torch.Tensor, ...]:
        """Backbone output on the (first) view: a 1-tuple with (N, 1 + L, D)."""
        return self.backbone(inputs if isinstance(inputs, torch.Tensor) else inputs[0])

    def loss(self, inputs: Inputs, data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        return self.losses(self.reconstruct_batch(inputs, data_samples))

    @torch.no_grad()
    def predict(self, inputs: Inputs, data_samples: List[DataSample], **kwargs) -> List[DataSample]:
        """``data_samples`` with the picture fields and ``pred_loss``: per-sample 0-d ``loss`` and each term."""
        out = self.reconstruct_batch(inputs, data_samples)
        losses = self.losses(out, reduction='none')
        losses, pictures = dict(loss=sum(losses.values()), **losses), self.pictures(out)
        for index, sample in enumerate(data_samples):
            sample.set_field({name: value[index] for name, value in losses.items()}, 'pred_loss')
            for name, value in pictures.items():
                sample.set_field(value[index], name)
        return data_samples

    def forward(self, inputs: Inputs, data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor') -> Union[Tuple[torch.Tensor, ...], Dict[str, torch.Tensor], List[DataSample]]:
        """``'tensor'`` (backbone output on the first view), ``'loss'`` or ``'predict'`` (:meth:`predict`)."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)
