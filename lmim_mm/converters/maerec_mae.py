"""MAERec MAE checkpoints -> :class:`~lmim_mm.models.backbones.TextViT` (mmpretrain ViT) state dicts.

MAERec's release format (also the teacher LMIM's authors load) is ``{'model': state_dict, ...}``
with timm ViT keys (``cls_token``, ``pos_embed`` with its 16x16 table, ``patch_embed.proj``,
``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``, ``norm``) plus MAE's pixel decoder
(``mask_token``, ``decoder_*``), which an encoder does not use and is dropped on purpose.
"""
import io
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from lmim_mm.utils.checkpoint import extract_state_dict, load_state_dict_file
from lmim_mm.utils.fileio import atomic_write_bytes
from .base import Rule, convert_keys

#: timm block submodule -> mmpretrain ``TransformerEncoderLayer`` submodule
BLOCK_NAMES = {'norm1': 'ln1', 'attn.qkv': 'attn.qkv', 'attn.proj': 'attn.proj', 'norm2': 'ln2',
               'mlp.fc1': 'ffn.layers.0.0', 'mlp.fc2': 'ffn.layers.1'}
#: MAE's pixel decoder, unused by an encoder.
MAE_DECODER_KEYS = (r'mask_token', r'decoder_\w+(\.\w+)*')


def block_rules(src_prefix: str, dst_prefix: str) -> List[Rule]:
    """Rules renaming timm blocks ``{src_prefix}N.*`` to mmpretrain layers ``{dst_prefix}N.*``."""
    return [(re.escape(src_prefix) + r'(\d+)\.' + re.escape(old) + r'\.(weight|bias)',
             dst_prefix + r'\1.' + new + r'.\2') for old, new in BLOCK_NAMES.items()]


def encoder_rules(src_prefix: str, dst_prefix: str) -> List[Rule]:
    """Rules renaming a timm ViT encoder under ``src_prefix`` to a TextViT under ``dst_prefix``."""
    src = re.escape(src_prefix)
    return [(src + r'(cls_token|pos_embed)', dst_prefix + r'\1'),
            (src + r'patch_embed\.proj\.(weight|bias)', dst_prefix + r'patch_embed.projection.\1'),
            (src + r'norm\.(weight|bias)', dst_prefix + r'ln1.\1')] + block_rules(src_prefix + 'blocks.',
                                                                                  dst_prefix + 'layers.')


def mae_decoder_rules(dst_prefix: str) -> List[Rule]:
    """Rules renaming MAE's pixel decoder to a :class:`~lmim_mm.models.necks.TextMAEDecoder` under ``dst_prefix``."""
    return [(r'(mask_token|decoder_pos_embed|decoder_embed\.weight|decoder_embed\.bias|decoder_pred\.weight'
             r'|decoder_pred\.bias)', dst_prefix + r'\1'),
            (r'decoder_norm\.(weight|bias)', dst_prefix + r'ln1.\1')] + block_rules('decoder_blocks.',
                                                                                 dst_prefix + 'decoder_blocks.')


#: An MAE / MAERec / LMIM training checkpoint's state dict (``torch_load`` allows their ``argparse.Namespace``).
read_authors_checkpoint = load_state_dict_file


def convert_maerec_mae(checkpoint: Mapping[str, Any], prefix: str = '', with_decoder: bool = False,
                       source: str = 'MAERec MAE checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Convert an MAERec MAE checkpoint to TextViT keys (and, optionally, ``TextMAE`` decoder keys).

    Args:
        checkpoint: ``{'model': state_dict}`` or the bare state dict.
        prefix: Prepended to every encoder key (e.g. ``'backbone.'``, ``'teacher.'``).
        with_decoder: Also map MAE's pixel decoder to ``neck.*`` (a whole ``TextMAE``, ``prefix='backbone.'``).
        source: Name used in error messages.

    Returns:
        The converted state dict and the dropped (decoder) keys.

    Raises:
        ConversionError: a key is neither mapped nor dropped on purpose.
    """
    rules = encoder_rules('', prefix) + (mae_decoder_rules('neck.') if with_decoder else [])
    return convert_keys(extract_state_dict(checkpoint, source), rules, drop=() if with_decoder else MAE_DECODER_KEYS,
                        source=source)


def save_mm_checkpoint(state_dict: Mapping[str, torch.Tensor], path: str, meta: Optional[dict] = None) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically; ``meta`` must stay loadable with ``weights_only``."""
    buffer = io.BytesIO()
    torch.save({'state_dict': dict(state_dict), 'meta': dict(meta or {})}, buffer)
    atomic_write_bytes(buffer.getvalue(), path)
