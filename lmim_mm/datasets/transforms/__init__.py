from .mask_transform import BlockwiseMaskGenerator, MixedMaskGenerator, RandomPatchMaskGenerator, SpanMaskGenerator
from .two_view import (ColorJitterView, GuidanceAugment, LMIMTwoView, PackTwoViewInputs, RandomGrayscaleView,
                       ResizeViews)

__all__ = [
    'BlockwiseMaskGenerator', 'ColorJitterView', 'GuidanceAugment', 'LMIMTwoView', 'MixedMaskGenerator',
    'PackTwoViewInputs', 'RandomGrayscaleView', 'RandomPatchMaskGenerator', 'ResizeViews', 'SpanMaskGenerator'
]
