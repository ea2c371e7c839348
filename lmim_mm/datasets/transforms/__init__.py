from .mask_transform import BlockwiseMaskGenerator, MixedMaskGenerator, RandomPatchMaskGenerator, SpanMaskGenerator
from .two_view import GuidanceAugment, LMIMTwoView

__all__ = ['BlockwiseMaskGenerator', 'GuidanceAugment', 'LMIMTwoView', 'MixedMaskGenerator',
           'RandomPatchMaskGenerator', 'SpanMaskGenerator']
