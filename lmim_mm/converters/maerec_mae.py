"""MAERec MAE checkpoints -> :class:`~lmim_mm.models.backbones.TextViT` state dicts.

MAERec's release format (also what the authors of LMIM load as the teacher) is
``{'model': state_dict, ...}`` with timm ViT keys (``cls_token``, ``pos_embed`` with its 16x16
table, ``patch_embed.proj``, ``blocks.N.*``, ``norm``) plus the MAE pixel decoder
(``mask_token``, ``decoder_*``), which the encoder does not use and is dropped on purpose.
"""
import argparse
import io
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from lmim_mm.utils.fileio import atomic_write_bytes
from lmim_mm.utils.checkpoint import load_state_dict_file
from .base import Rule, convert_keys

#: A timm ViT encoder key, as a regex with one group (the key itself).
ENCODER_KEY = (r'(cls_token|pos_embed|patch_embed\.proj\.(?:weight|bias)|norm\.(?:weight|bias)'
               r'|blocks\.\d+\.(?:norm1|attn\.qkv|attn\.proj|norm2|mlp\.fc1|mlp\.fc2)\.(?:weight|bias))')
#: MAE's pixel decoder, unused by an encoder.
MAE_DECODER_KEYS = (r'mask_token', r'decoder_\w+(\.\w+)*')


def encoder_rules(src_prefix: str, dst_prefix: str) -> List[Rule]:
    """One rule renaming every timm ViT encoder key under ``src_prefix`` to ``dst_prefix`` + key."""
    return [(src_prefix.replace('.', r'\.') + ENCODER_KEY, dst_prefix + r'\1')]


def model_state_dict(checkpoint: Mapping[str, Any], source: str) -> Mapping[str, torch.Tensor]:
    """The state dict inside ``{'model': ...}`` / ``{'state_dict': ...}``, or ``checkpoint`` itself.

    Raises:
        ValueError: ``checkpoint`` holds no state dict.
    """
    for key in ('model', 'state_dict'):
        if isinstance(checkpoint.get(key), Mapping):
            return checkpoint[key]
    if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return checkpoint
    raise ValueError(f'{source}: no state dict (looked for "model", "state_dict" or a dict of tensors)')


def read_authors_checkpoint(path: str) -> Dict[str, torch.Tensor]:
    """Read an MAE / MAERec / LMIM training checkpoint safely (``weights_only=True``).

    Their ``save_model`` stores the run's ``argparse.Namespace`` beside the weights; that class is
    allowed for this read only.

    Args:
        path: Checkpoint file.

    Returns:
        The model state dict.
    """
    with torch.serialization.safe_globals([argparse.Namespace]):
        return load_state_dict_file(path)


def convert_maerec_mae(checkpoint: Mapping[str, Any], prefix: str = '',
                       source: str = 'MAERec MAE checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Convert an MAERec MAE checkpoint to TextViT keys.

    Args:
        checkpoint: ``{'model': state_dict}`` or the bare state dict.
        prefix: Prepended to every output key (e.g. ``'backbone.'``, ``'teacher.'``).
        source: Name used in error messages.

    Returns:
        The converted state dict and the dropped (decoder) keys.

    Raises:
        ConversionError: a key is neither an encoder key nor part of MAE's decoder.
    """
    return convert_keys(model_state_dict(checkpoint, source), encoder_rules('', prefix), drop=MAE_DECODER_KEYS,
                        source=source)


def save_mm_checkpoint(state_dict: Mapping[str, torch.Tensor], path: str, meta: Optional[dict] = None) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically (temporary file, fsync, ``os.replace``).

    Args:
        state_dict: Tensors to save.
        path: Destination file; its folder is created.
        meta: Plain-Python metadata (kept loadable with ``weights_only=True``).
    """
    buffer = io.BytesIO()
    torch.save({'state_dict': dict(state_dict), 'meta': dict(meta or {})}, buffer)
    atomic_write_bytes(buffer.getvalue(), path)
