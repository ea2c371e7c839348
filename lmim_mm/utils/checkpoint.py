"""Checkpoint reading (``weights_only``, errors naming the file) and strict loading that lists every misfit."""
import argparse
import os
from typing import Any, Dict, Mapping, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

#: ``CheckpointLoader`` scheme of local files read by :func:`torch_load` (see :func:`checkpoint_uri`).
WEIGHTS_ONLY = 'weights_only://'
#: The converter script of each of the authors' formats, told apart by a key prefix (MAERec / MAE: any other).
AUTHORS_CONVERTERS = (('model_maeenc.', 'lmim_pretrain_to_mm.py'), ('linear_norm.', 'lmim_recognizer_to_mm.py'))


def torch_load(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load(path, weights_only=True)`` allowing the authors' ``argparse.Namespace``: a missing file raises a
    ``FileNotFoundError``, one torch cannot read or refuses (e.g. globals outside the allow-list) a ``ValueError``
    with torch's reason, both naming the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch's unpickling / zip errors name no file; add it
        raise ValueError(f'cannot read checkpoint {path}: {type(err).__name__}: {err}') from err


@CheckpointLoader.register_scheme(prefixes=WEIGHTS_ONLY)
def load_weights_only(filename: str, map_location: Any = None) -> Any:
    """The ``weights_only://`` scheme: :func:`torch_load` of the local file after the prefix."""
    return torch_load(os.path.expanduser(filename[len(WEIGHTS_ONLY):]), map_location)


def checkpoint_uri(path: str) -> str:
    """``path`` for mmengine's ``CheckpointLoader``: a local file under :data:`WEIGHTS_ONLY`, a URL as it is."""
    return path if '://' in path else WEIGHTS_ONLY + path


def extract_state_dict(checkpoint: Any, source: str) -> Dict[str, torch.Tensor]:
    """The model state dict of a loaded checkpoint: mmengine's (``state_dict``), the authors' (``model``) or a bare one;
    a ``ValueError`` naming ``source`` if it holds none."""
    if isinstance(checkpoint, Mapping):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), Mapping):
                return dict(checkpoint[key])
        if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return dict(checkpoint)
    raise ValueError(f'{source} holds no state dict (looked for "state_dict", "model" or a tensor dict)')


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """:func:`extract_state_dict` of a checkpoint file (:func:`torch_load`) or URL (mmengine's ``CheckpointLoader``)."""
    return extract_state_dict(CheckpointLoader.load_checkpoint(checkpoint_uri(path), map_location='cpu'), path)


def check_state_dict(module: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = 'state dict') -> None:
    """Check that ``state_dict`` fits ``module`` exactly (same keys and tensor shapes), else a ``KeyError`` listing the
    missing and unexpected keys or a ``ValueError`` listing the misshapen tensors, naming ``source``."""
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


def conversion_command(state_dict: Mapping[str, Any], path: str, prefix: Optional[str] = None) -> str:
    """The ``tools/model_converters`` command making an authors' checkpoint ``path`` loadable with ``prefix``."""
    script = next((name for key, name in AUTHORS_CONVERTERS if any(k.startswith(key) for k in state_dict)),
                  'maerec_mae_to_mm.py')
    option = f' --prefix {prefix}' if prefix and script == 'maerec_mae_to_mm.py' else ''
    return f'python tools/model_converters/{script} {path} {os.path.splitext(path)[0]}_mm.pth{option}'


def load_pretrained(module: nn.Module, path: str, prefix: Optional[str] = None) -> None:
    """Load ``path`` (a file or URL: ``{'state_dict': ...}`` or a bare state dict) into ``module`` strictly, keeping
    only the keys under ``prefix`` (e.g. ``'backbone.'``, stripped; None: all). An authors' checkpoint
    (``{'model': ...}``) raises a ``ValueError`` naming the converter command to run."""
    checkpoint = CheckpointLoader.load_checkpoint(checkpoint_uri(path), map_location='cpu')
    if isinstance(checkpoint, Mapping) and 'model' in checkpoint and 'state_dict' not in checkpoint:
        raise ValueError(f"{path} is one of the authors' checkpoints ({{'model': ...}}), not an lmim_mm one; convert "
                         f"it first: {conversion_command(checkpoint['model'], path, prefix)}")
    state_dict = extract_state_dict(checkpoint, path)
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise KeyError(f'{path} has no keys under prefix {prefix!r}')
    source = path + (f' (prefix {prefix!r})' if prefix else '')
    load_strict(module, state_dict, source=source)
    print_log(f'loaded {len(state_dict)} tensors into {type(module).__name__} from {source}', logger='current')
