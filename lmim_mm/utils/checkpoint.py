"""Checkpoint reading (``weights_only``, errors naming the file) and strict loading that lists every misfit."""
import os
from typing import Any, Dict, Mapping, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader


def torch_load(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load(path, weights_only=True)`` whose errors name the file (:mod:`lmim_mm.utils.fileio`
    registers it as mmengine's ``CheckpointLoader`` for local files).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: torch cannot read the file or refuses it (e.g. a pickle that needs globals outside
            ``weights_only``'s allow-list), with the file name and torch's reason.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch's unpickling / zip errors name no file; add it
        raise ValueError(f'cannot read checkpoint {path}: {type(err).__name__}: {err}') from err


def extract_state_dict(checkpoint: Any, source: str) -> Dict[str, torch.Tensor]:
    """The model state dict of a loaded checkpoint: mmengine's (``state_dict``), the authors' /
    MAERec's (``model``) or a bare one.

    Raises:
        ValueError: ``checkpoint`` holds no state dict (naming ``source``).
    """
    if isinstance(checkpoint, Mapping):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), Mapping):
                return dict(checkpoint[key])
        if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return dict(checkpoint)
    raise ValueError(f'{source} holds no state dict (looked for "state_dict", "model" or a tensor dict)')


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """:func:`extract_state_dict` of a checkpoint file or URL read by mmengine's ``CheckpointLoader``."""
    return extract_state_dict(CheckpointLoader.load_checkpoint(path, map_location='cpu'), path)


def check_state_dict(module: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = 'state dict') -> None:
    """Check that ``state_dict`` fits ``module`` exactly: the same keys, every tensor of the same shape.

    Raises:
        KeyError: keys are missing or unexpected (all of them listed, naming ``source``).
        ValueError: tensors have the wrong shape (all of them listed, naming ``source``).
    """
    own = module.state_dict()
    missing, unexpected = sorted(set(own) - set(state_dict)), sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise KeyError(f'{source} does not fit {type(module).__name__}: missing keys {missing}, '
                       f'unexpected keys {unexpected}')
    wrong = [f'{k}: {tuple(state_dict[k].shape)} vs {tuple(v.shape)}' for k, v in own.items()
             if tuple(state_dict[k].shape) != tuple(v.shape)]
    if wrong:
        raise ValueError(f'{source} has tensors of the wrong shape for {type(module).__name__} (checkpoint vs '
                         f'model): {wrong}')


def load_strict(module: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = 'state dict') -> None:
    """:func:`check_state_dict`, then ``load_state_dict(strict=True)``."""
    check_state_dict(module, state_dict, source)
    module.load_state_dict(state_dict, strict=True)


def load_pretrained(module: nn.Module, path: str, prefix: Optional[str] = None) -> None:
    """Load ``path`` into ``module`` strictly, keeping only the keys under ``prefix`` (stripped).

    Args:
        module: Target module.
        path: Checkpoint file or URL (mmengine, authors' ``{'model': ...}`` or bare state dict).
        prefix: e.g. ``'backbone.'``; None loads the whole state dict.
    """
    state_dict = load_state_dict_file(path)
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise KeyError(f'{path} has no keys under prefix {prefix!r}')
    source = path + (f' (prefix {prefix!r})' if prefix else '')
    load_strict(module, state_dict, source=source)
    print_log(f'loaded {len(state_dict)} tensors into {type(module).__name__} from {source}', logger='current')
