"""Checkpoint reading: safe ``torch.load`` and strict, prefix-aware loading into modules."""
import os
from typing import Any, Dict, Mapping, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """Read the model state dict of a checkpoint file with ``weights_only=True``.

    Accepts mmengine checkpoints (``state_dict``), the authors' / MAERec's (``model``) and bare
    state dicts.

    Args:
        path: Checkpoint path.

    Returns:
        The state dict.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file holds no state dict.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        ckpt: Any = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # unpickling errors name no file; add it
        raise ValueError(f'cannot read checkpoint {path}: {err}') from err
    if isinstance(ckpt, Mapping):
        for key in ('state_dict', 'model'):
            if key in ckpt and isinstance(ckpt[key], Mapping):
                return dict(ckpt[key])
        if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
            return dict(ckpt)
    raise ValueError(f'{path} holds no state dict (looked for "state_dict", "model" or a tensor dict)')


def load_strict(module: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = 'state dict') -> None:
    """``load_state_dict(strict=True)`` with one clear error naming every missing and unexpected key.

    Args:
        module: Target module.
        state_dict: Tensors to load.
        source: Where they come from, for the error message.

    Raises:
        KeyError: keys are missing or unexpected.
        ValueError: a tensor has the wrong shape.
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise KeyError(f'{source} does not fit {type(module).__name__}: missing keys {missing}, '
                       f'unexpected keys {unexpected}')
    wrong = [f'{k}: {tuple(state_dict[k].shape)} vs {tuple(v.shape)}' for k, v in own.items()
             if tuple(state_dict[k].shape) != tuple(v.shape)]
    if wrong:
        raise ValueError(f'{source} has tensors of the wrong shape for {type(module).__name__}: {wrong}')
    module.load_state_dict(state_dict, strict=True)


def load_pretrained(module: nn.Module, path: str, prefix: Optional[str] = None) -> None:
    """Load ``path`` into ``module`` strictly, keeping only keys under ``prefix`` (stripped).

    Args:
        module: Target module.
        path: Checkpoint file (mmengine, authors' ``{'model': ...}`` or bare state dict).
        prefix: e.g. ``'backbone.'`` or ``'student.'``; None loads the whole state dict.
    """
    state_dict = load_state_dict_file(path)
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise KeyError(f'{path} has no keys under prefix {prefix!r}')
    source = f'{path}' + (f' (prefix {prefix!r})' if prefix else '')
    load_strict(module, state_dict, source=source)
    print_log(f'loaded {len(state_dict)} tensors into {type(module).__name__} from {source}', logger='current')
