from .mask_transform import MaskGenerate
from .two_view import GuidanceAugment, LMIMTwoView

__all__ = ['GuidanceAugment', 'LMIMTwoView', 'MaskGenerate']
