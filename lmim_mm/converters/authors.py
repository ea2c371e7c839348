"""The authors' checkpoints -> lmim_mm state dicts: MAERec's MAE (also LMIM's teacher), LMIM pretraining, the LMIM
recognizer, all saved MAE-style (``{'model': state_dict, 'optimizer': ..., 'epoch': ..., 'args': ...}``) with timm ViT
encoder keys (``cls_token``, ``pos_embed`` with its 16x16 table, ``patch_embed.proj``,
``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``, ``norm``). Every ``convert_*`` takes such a loaded
``checkpoint`` (or ``{'state_dict': ...}``, or the bare state dict) and ``source``, its name in error messages; it
returns the converted state dict and the keys dropped on purpose, and raises a ``ConversionError`` for any other key."""
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


#: MAE's pixel decoder -> :class:`~lmim_mm.models.necks.TextMAEDecoder` (``neck.*``).
MAE_DECODER_RULES = [(r'(mask_token|decoder_pos_embed|decoder_(?:embed|pred)\.(?:weight|bias))', r'neck.\1'),
                     (r'decoder_norm\.(weight|bias)', r'neck.ln1.\1')] + block_rules('decoder_blocks.',
                                                                                      'neck.decoder_blocks.')


#: An MAE / MAERec / LMIM training checkpoint's state dict (``torch_load`` allows their ``argparse.Namespace``).
read_authors_checkpoint = load_state_dict_file


def convert_maerec_mae(checkpoint: Mapping[str, Any], prefix: str = '', with_decoder: bool = False,
                       source: str = 'MAERec MAE checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Convert an MAERec MAE checkpoint to TextViT keys (and, optionally, ``TextMAE`` decoder keys).

    Args:
        prefix: Prepended to every encoder key (e.g. ``'backbone.'``, ``'teacher.'``).
        with_decoder: Map MAE's pixel decoder to ``neck.*`` (a whole ``TextMAE``, ``prefix='backbone.'``), else drop it.
    """
    rules = encoder_rules('', prefix) + (MAE_DECODER_RULES if with_decoder else [])
    return convert_keys(extract_state_dict(checkpoint, source), rules, drop=() if with_decoder else MAE_DECODER_KEYS,
                        source=source)


def save_mm_checkpoint(state_dict: Mapping[str, torch.Tensor], path: str, meta: Optional[dict] = None) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically; ``meta`` must stay loadable with ``weights_only``."""
    buffer = io.BytesIO()
    torch.save({'state_dict': dict(state_dict), 'meta': dict(meta or {})}, buffer)
    atomic_write_bytes(buffer.getvalue(), path)


#: LMIM pretraining: the decoder's keys -> :class:`~lmim_mm.models.necks.AlignmentDecoder` (``neck.*``).
DECODER_RULES: List[Rule] = [
    (r'decoder_embed2\.(weight|bias)', r'neck.memory_embed.\1'),
    (r'(mask_token|decoder_pos_embed|decoder_embed\.\w+|decoder_pred\.\w+|decoder_blocks\.\d+\.[\w.]+)', r'neck.\1'),
    (r'decoder_norm\.(weight|bias)', r'neck.ln1.\1'),
]


def convert_lmim_pretrain(checkpoint: Mapping[str, Any],
                          source: str = 'LMIM pretraining checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Convert the authors' LMIM pretraining state dict to lmim_mm's ``LMIM``, dropping nothing: ``model_maeenc.*``
    (student) -> ``backbone.*``, ``model_maeenc_momentum.*`` (teacher) -> ``teacher.*``, the decoder
    (``decoder_embed``: queries, ``decoder_embed2``: memory, ``mask_token``, ``decoder_pos_embed``,
    ``decoder_blocks.N`` kept as ``nn.TransformerDecoderLayer``, ``decoder_norm``, ``decoder_pred``) -> ``neck.*``."""
    rules = encoder_rules('model_maeenc.', 'backbone.') + encoder_rules('model_maeenc_momentum.',
                                                                        'teacher.') + DECODER_RULES
    return convert_keys(extract_state_dict(checkpoint, source), rules, source=source)


RECOGNIZER_RULES: List[Rule] = encoder_rules('encoder.', 'backbone.') + [
    (r'linear_norm\.0\.(weight|bias)', r'encoder.linear.\1'),
    (r'linear_norm\.1\.(weight|bias)', r'encoder.norm.\1'),
    (r'decoder\.(trg_word_emb\.weight|position_enc\.position_table|layer_stack\.\d+\.\w+(?:\.\w+)*'
     r'|layer_norm\.(?:weight|bias)|classifier\.(?:weight|bias))', r'decoder.transformer.\1'),
]
#: Dropped on purpose: MAE pixel-decoder leftovers (``mask_token``, ``decoder_*``) of an encoder built from MAE's class.
RECOGNIZER_DROP: List[str] = [r'encoder\.' + key for key in MAE_DECODER_KEYS]


def convert_lmim_recognizer(checkpoint: Mapping[str, Any],
                            source: str = 'LMIM recognizer checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map every key of an authors' recognizer checkpoint to ours (loads strictly into mmocr's
    ``EncoderDecoderRecognizer``): ``encoder.*`` (timm ViT) -> ``backbone.*`` (``TextViT``), ``linear_norm.{0,1}.*``
    (Linear + LayerNorm) -> ``encoder.*`` (``LinearNorm``), ``decoder.*`` (MMOCR-0.x NRTR-style) ->
    ``decoder.transformer.*`` (``TransformerTextDecoder``, the authors' names); drops :data:`RECOGNIZER_DROP`."""
    return convert_keys(extract_state_dict(checkpoint, source), RECOGNIZER_RULES, RECOGNIZER_DROP, source=source)
