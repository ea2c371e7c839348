"""Draw token masks in the data pipeline (e.g. in dataloader workers) instead of in the model."""
import os
from typing import Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from lmim_mm.models.utils.masking import BaseMaskGenerator, build_mask_generator
from lmim_mm.registry import register


@register('TRANSFORMS')
class MaskGenerate(BaseTransform):
    """Write a token mask, bool ndarray (H * W,) with True = masked, to ``results['mask']``.

    Masks come from a generator of :mod:`lmim_mm.models.utils.masking` and are drawn
    ``buffer_size`` at a time (a blockwise mask costs about as much alone as in a batch of hundreds),
    then handed out one per sample. Each refill seeds a ``torch.Generator`` from numpy's global RNG,
    which mmengine seeds per dataloader worker, so the masks are reproducible; a buffer filled in
    another process (before workers were forked) is discarded, so workers never repeat each
    other's masks. :class:`~lmim_mm.datasets.transforms.two_view.PackTwoViewInputs` (or
    mmpretrain's ``PackInputs``) moves the mask into the data sample.

    Args:
        mask_generator: Generator config (dict with ``type``, e.g.
            ``dict(type='RandomPatchMaskGenerator', ratio=0.8)``) or instance.
        buffer_size: Masks drawn per refill.
    """

    def __init__(self, mask_generator: Union[dict, BaseMaskGenerator], buffer_size: int = 256) -> None:
        if buffer_size < 1:
            raise ValueError(f'MaskGenerate: buffer_size must be >= 1, got {buffer_size}')
        self.mask_generator = build_mask_generator(mask_generator)
        self.buffer_size = buffer_size
        self._buffer = np.zeros((0, self.mask_generator.num_tokens), dtype=bool)
        self._next = 0
        self._pid = os.getpid()

    def transform(self, results: dict) -> dict:
        if self._next >= len(self._buffer) or self._pid != os.getpid():
            seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
            generator = torch.Generator().manual_seed(seed)
            self._buffer = self.mask_generator(self.buffer_size, generator=generator).numpy()
            self._next, self._pid = 0, os.getpid()
        results['mask'] = self._buffer[self._next].copy()
        self._next += 1
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(mask_generator={self.mask_generator}, buffer_size={self.buffer_size})'
