"""The authors' LMIM pretraining checkpoints -> lmim_mm ``LMIM`` state dicts.

Source keys (``{'model': state_dict}`` or bare): ``model_maeenc.*`` (student), ``model_maeenc_momentum.*``
(teacher), ``decoder_embed`` (queries), ``decoder_embed2`` (memory), ``mask_token``,
``decoder_pos_embed``, ``decoder_blocks.N`` (``nn.TransformerDecoderLayer``, kept as is),
``decoder_norm``, ``decoder_pred``. Targets: ``backbone.*``, ``teacher.*`` and ``neck.*`` of
:class:`~lmim_mm.models.selfsup.LMIM`.
"""
from typing import Any, Dict, List, Mapping, Tuple

import torch

from lmim_mm.utils.checkpoint import extract_state_dict
from .base import Rule, convert_keys
from .maerec_mae import encoder_rules

DECODER_RULES: List[Rule] = [
    (r'decoder_embed2\.(weight|bias)', r'neck.memory_embed.\1'),
    (r'(mask_token|decoder_pos_embed|decoder_embed\.\w+|decoder_pred\.\w+|decoder_blocks\.\d+\.[\w.]+)', r'neck.\1'),
    (r'decoder_norm\.(weight|bias)', r'neck.ln1.\1'),
]


def convert_lmim_pretrain(checkpoint: Mapping[str, Any],
                          source: str = 'LMIM pretraining checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Convert the authors' LMIM pretraining state dict to lmim_mm's ``LMIM``.

    Args:
        checkpoint: ``{'model': state_dict, ...}`` or the bare state dict.
        source: Name used in error messages.

    Returns:
        The converted state dict and the dropped keys (none: every key has a target).

    Raises:
        ConversionError: listing every key that has no target.
    """
    rules = encoder_rules('model_maeenc.', 'backbone.') + encoder_rules('model_maeenc_momentum.',
                                                                        'teacher.') + DECODER_RULES
    return convert_keys(extract_state_dict(checkpoint, source), rules, source=source)
