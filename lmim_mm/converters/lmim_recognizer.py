"""Convert the authors' LMIM recognizer weights to lmim_mm's recognizer layout.

Source (the authors' fine-tuning code, saved MAE-style as ``{'model': state_dict, 'optimizer': ...,
'epoch': ..., 'args': ...}``): ``encoder.*`` (timm ViT), ``linear_norm.{0,1}.*`` (Linear +
LayerNorm) and ``decoder.*`` (MMOCR-0.x NRTR-style decoder). Target: the state dict of mmocr's
``EncoderDecoderRecognizer`` built with ``TextViT`` (``backbone``), ``LinearNorm`` (``encoder``)
and ``ViTTransformerDecoder`` (``decoder``; its ``TransformerTextDecoder`` is
``decoder.transformer``, whose submodules keep the authors' names).
"""
from typing import Any, Dict, List, Mapping, Tuple

import torch

from lmim_mm.utils.checkpoint import extract_state_dict
from .base import Rule, convert_keys
from .maerec_mae import MAE_DECODER_KEYS, encoder_rules

#: Source -> target key rules.
RECOGNIZER_RULES: List[Rule] = encoder_rules('encoder.', 'backbone.') + [
    (r'linear_norm\.0\.(weight|bias)', r'encoder.linear.\1'),
    (r'linear_norm\.1\.(weight|bias)', r'encoder.norm.\1'),
    (r'decoder\.(trg_word_emb\.weight|position_enc\.position_table|layer_stack\.\d+\.\w+(?:\.\w+)*'
     r'|layer_norm\.(?:weight|bias)|classifier\.(?:weight|bias))', r'decoder.transformer.\1'),
]

#: Dropped on purpose: MAE pixel-decoder leftovers (``mask_token``, ``decoder_*``) that an encoder
#: built from MAE's class carries; the recognizer does not use them.
RECOGNIZER_DROP: List[str] = [r'encoder\.' + key for key in MAE_DECODER_KEYS]


def convert_lmim_recognizer(checkpoint: Mapping[str, Any],
                            source: str = 'LMIM recognizer checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map every key of an authors' recognizer checkpoint to ours.

    Args:
        checkpoint: ``{'model': state_dict, ...}`` / ``{'state_dict': ...}`` or the bare state dict;
            other training entries (optimizer, epoch, args) are ignored.
        source: Name used in error messages (e.g. the file path).

    Returns:
        Our state dict (loads strictly into the recognizer) and the list of dropped source keys.

    Raises:
        ConversionError: a key is neither mapped nor dropped on purpose.
    """
    return convert_keys(extract_state_dict(checkpoint, source), RECOGNIZER_RULES, RECOGNIZER_DROP, source=source)


__all__ = ['RECOGNIZER_DROP', 'RECOGNIZER_RULES', 'convert_lmim_recognizer']
