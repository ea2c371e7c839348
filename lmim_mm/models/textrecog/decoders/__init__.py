"""Decoders of lmim_mm text recognizers (mmocr)."""
from .vit_transformer_decoder import ViTTransformerDecoder

__all__ = ['ViTTransformerDecoder']
