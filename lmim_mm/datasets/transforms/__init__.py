from .mask_transform import MaskGenerate
from .two_view import (ColorJitterView, GuidanceAugment, LMIMTwoView, PackTwoViewInputs, RandomGrayscaleView,
                       ResizeViews)

__all__ = [
    'ColorJitterView', 'GuidanceAugment', 'LMIMTwoView', 'MaskGenerate', 'PackTwoViewInputs', 'RandomGrayscaleView',
    'ResizeViews'
]
