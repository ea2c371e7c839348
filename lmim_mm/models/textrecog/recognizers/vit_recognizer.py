"""The LMIM recognizer: mmocr's encoder-decoder recognizer with layer-wise lr decay support."""
from typing import Tuple

from mmocr.models.textrecog.recognizers import EncoderDecoderRecognizer
from mmocr.registry import MODELS


@MODELS.register_module()
class ViTRecognizer(EncoderDecoderRecognizer):
    """``TextViT`` backbone + ``LinearNorm`` (encoder slot) + ``ViTTransformerDecoder``.

    Identical to mmocr's ``EncoderDecoderRecognizer`` plus :meth:`get_layer_depth`, which
    mmpretrain's ``LearningRateDecayOptimWrapperConstructor`` (layer-wise lr decay 0.75 in the
    fine-tuning recipe) asks the model for.
    """

    def get_layer_depth(self, param_name: str) -> Tuple[int, int]:
        """Layer of a parameter: backbone embeddings 0, block ``i`` -> ``i + 1``, all else the top."""
        return self.backbone.get_layer_depth(param_name, 'backbone.')
