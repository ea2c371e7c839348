from .decoders import ColumnCTCDecoder, ViTTransformerDecoder
from .module_losses import SmoothCEModuleLoss
from .recognizers import ViTRecognizer

__all__ = ['ColumnCTCDecoder', 'SmoothCEModuleLoss', 'ViTRecognizer', 'ViTTransformerDecoder']
