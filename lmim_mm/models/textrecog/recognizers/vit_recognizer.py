from typing import Dict, Optional, Sequence, Tuple

import torch
from mmocr.models.textrecog.recognizers import EncoderDecoderRecognizer
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample


@MODELS.register_module()
class ViTRecognizer(EncoderDecoderRecognizer):
    """``TextViT`` backbone + ``LinearNorm`` (encoder slot) + ``ViTTransformerDecoder``: mmocr's
    ``EncoderDecoderRecognizer`` plus :meth:`get_layer_depth` (for mmpretrain's
    ``LearningRateDecayOptimWrapperConstructor``) and an optional auxiliary decoder trained beside the main one: it
    reads the encoder output, shares the main decoder's dictionary, gets the backbone's ``grid_size``, adds its losses
    (prefixed ``aux_``, times ``aux_loss_weight``) and is not used for prediction.

    Args:
        aux_decoder: Auxiliary decoder config (``dict(type='ColumnCTCDecoder', in_channels=...)``); None: the authors'.
        **kwargs: mmocr ``EncoderDecoderRecognizer`` arguments.
    """

    def __init__(self, aux_decoder: Optional[Dict] = None, aux_loss_weight: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.aux_loss_weight = aux_loss_weight
        self.aux_decoder = None if aux_decoder is None else MODELS.build(
            dict(aux_decoder, dictionary=self.decoder.dictionary, grid_size=tuple(self.backbone.grid_size)))

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[TextRecogDataSample], **kwargs) -> Dict:
        feat = self.extract_feat(inputs)
        out_enc = self.encoder(feat, data_samples) if self.with_encoder else None
        losses = self.decoder.loss(feat, out_enc, data_samples)
        if self.aux_decoder is not None:
            aux = self.aux_decoder.loss(feat, out_enc, data_samples)
            losses.update({f'aux_{name}': self.aux_loss_weight * value for name, value in aux.items()})
        return losses

    def get_layer_depth(self, param_name: str) -> Tuple[int, int]:
        """Layer of a parameter: backbone embeddings 0, block ``i`` -> ``i + 1``, all else the top."""
        return self.backbone.get_layer_depth(param_name, 'backbone.')
