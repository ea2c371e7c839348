"""mmocr text-recognition parts of lmim_mm: decoder and module loss for the LMIM recognizer.

The recognizer itself is mmocr's ``EncoderDecoderRecognizer`` with ``TextViT`` (backbone),
``LinearNorm`` (encoder slot) and :class:`ViTTransformerDecoder`.
"""
from .decoders import ViTTransformerDecoder
from .module_losses import SmoothCEModuleLoss

__all__ = ['SmoothCEModuleLoss', 'ViTTransformerDecoder']
