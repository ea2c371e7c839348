"""mmocr text-recognition parts of lmim_mm: the recognizer, its decoder and module loss.

The recognizer is :class:`ViTRecognizer` (mmocr's ``EncoderDecoderRecognizer`` + layer depth for
layer-wise lr decay) with ``TextViT`` (backbone), ``LinearNorm`` (encoder slot) and
:class:`ViTTransformerDecoder`.
"""
from .decoders import ColumnCTCDecoder, ViTTransformerDecoder
from .module_losses import SmoothCEModuleLoss
from .recognizers import ViTRecognizer

__all__ = ['ColumnCTCDecoder', 'SmoothCEModuleLoss', 'ViTRecognizer', 'ViTTransformerDecoder']
