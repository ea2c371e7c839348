from .column_ctc_decoder import ColumnCTCDecoder
from .vit_transformer_decoder import ViTTransformerDecoder

__all__ = ['ColumnCTCDecoder', 'ViTTransformerDecoder']
