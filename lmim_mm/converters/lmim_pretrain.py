"""The authors' LMIM pretraining checkpoints -> lmim_mm ``LMIM`` state dicts.

Source keys (``{'model': state_dict}`` or bare): ``model_maeenc.*`` (student),
``model_maeenc_momentum.*`` (teacher), ``decoder_embed`` (queries), ``decoder_embed2`` (memory),
``mask_token``, ``decoder_pos_embed``, ``decoder_blocks.N`` (``nn.TransformerDecoderLayer``),
``decoder_norm``, ``decoder_pred``. Targets: ``backbone.*``, ``teacher.*``, ``neck.*`` of
:class:`~lmim_mm.models.selfsup.LMIM`; the cross-attention ``in_proj`` is split into ``q`` and
``kv`` (:class:`~lmim_mm.models.necks.alignment_decoder.CrossAttention`).
"""
from typing import Any, Dict, List, Mapping, Tuple

import torch

from .base import ConversionError, Rule, convert_keys
from .maerec_mae import encoder_rules, model_state_dict

_BLOCK = r'decoder_blocks\.(\d+)\.'
_NECK_BLOCK = r'neck.decoder_blocks.\1.'
_WB = r'(weight|bias)'

DECODER_RULES: List[Rule] = [
    (r'decoder_embed\.' + _WB, r'neck.decoder_embed.\1'),
    (r'decoder_embed2\.' + _WB, r'neck.memory_embed.\1'),
    (r'mask_token', 'neck.mask_token'),
    (r'decoder_pos_embed', 'neck.decoder_pos_embed'),
    (_BLOCK + r'self_attn\.in_proj_' + _WB, _NECK_BLOCK + r'self_attn.qkv.\2'),
    (_BLOCK + r'self_attn\.out_proj\.' + _WB, _NECK_BLOCK + r'self_attn.proj.\2'),
    (_BLOCK + r'multihead_attn\.in_proj_' + _WB, _NECK_BLOCK + r'cross_attn.in_proj.\2'),
    (_BLOCK + r'multihead_attn\.out_proj\.' + _WB, _NECK_BLOCK + r'cross_attn.proj.\2'),
    (_BLOCK + r'linear([12])\.' + _WB, _NECK_BLOCK + r'mlp.fc\2.\3'),
    (_BLOCK + r'(norm[123])\.' + _WB, _NECK_BLOCK + r'\2.\3'),
    (r'decoder_norm\.' + _WB, r'neck.decoder_norm.\1'),
    (r'decoder_pred\.' + _WB, r'neck.decoder_pred.\1'),
]


def split_cross_attn_in_proj(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Replace every ``*.cross_attn.in_proj.{weight,bias}`` by ``*.cross_attn.q.*`` and ``*.cross_attn.kv.*``.

    ``nn.MultiheadAttention`` stacks the q, k, v projections row-wise; q is the first third.
    """
    out = {}
    for key, value in state_dict.items():
        if '.cross_attn.in_proj.' not in key:
            out[key] = value
            continue
        if value.shape[0] % 3:
            raise ConversionError(f'{key}: in_proj has {value.shape[0]} rows, not a multiple of 3')
        dim = value.shape[0] // 3
        out[key.replace('.in_proj.', '.q.')] = value[:dim].clone()
        out[key.replace('.in_proj.', '.kv.')] = value[dim:].clone()
    return out


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
    converted, dropped = convert_keys(model_state_dict(checkpoint, source), rules, source=source)
    return split_cross_attn_in_proj(converted), dropped
