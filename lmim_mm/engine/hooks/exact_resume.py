"""Checkpoints that load with ``torch.load(weights_only=True)`` and resume exactly."""
import random
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from mmocr.registry import HOOKS

from lmim_mm.utils.checkpoint import check_state_dict

_BUFFER_TAG = '__history_buffer__'


def to_safe(obj: Any) -> Any:
    """``obj`` (nested dicts / lists / tuples) with what ``weights_only`` loading refuses made plain: numpy
    scalars as Python numbers, numpy arrays as tensors, each mmengine ``HistoryBuffer`` as a tagged dict."""
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {_BUFFER_TAG: True, 'log_history': log.tolist(), 'count_history': count.tolist(),
                'max_length': obj.max_length}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    if isinstance(obj, dict):
        return type(obj)((k, to_safe(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_safe(v) for v in obj)
    return obj


def from_safe(obj: Any) -> Any:
    """Inverse of :func:`to_safe` for history buffers (numbers and tensors stay as they are)."""
    if isinstance(obj, dict):
        if obj.get(_BUFFER_TAG):
            return HistoryBuffer(obj['log_history'], obj['count_history'], obj['max_length'])
        return type(obj)((k, from_safe(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return [from_safe(v) for v in obj]
    return obj


def rng_state() -> Dict[str, Any]:
    """Global RNG states of Python, numpy and torch (CPU and CUDA) as safe types."""
    version, python, gauss = random.getstate()
    _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = {'python': list(python) + [gauss], 'python_version': version, 'torch': torch.get_rng_state(),
             'numpy': {'keys': torch.from_numpy(keys.astype(np.int64)), 'pos': int(pos), 'has_gauss': int(has_gauss),
                       'cached_gaussian': float(cached_gaussian)}}
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    py = state['python']
    random.setstate((state['python_version'], tuple(py[:-1]), py[-1]))
    npst = state['numpy']
    np.random.set_state(('MT19937', npst['keys'].numpy().astype(np.uint32), npst['pos'], npst['has_gauss'],
                         npst['cached_gaussian']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Make mmengine checkpoints safe to load on torch >= 2.6 and resumption exact: saving stores the RNG states and
    makes the rest :func:`to_safe` (``torch.load(weights_only=True)`` needs no allow-listed global); loading rebuilds
    the buffers and, with ``strict``, refuses any missing, unexpected or misshapen model key (mmengine's ``load_from``
    only warns). A resumed run gets the RNG states back where the uninterrupted run next drew from them: before the
    epoch's data loader iterator is created, or (:class:`~lmim_mm.engine.ExactResumeIterBasedTrainLoop`) before its
    first batch. Validation leaves the global RNG states as it found them."""

    priority = 'VERY_LOW'

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict
        self._pending_rng: Optional[Dict[str, Any]] = None
        self._rng_before_val: Optional[Dict[str, Any]] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = rng_state()
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_safe(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = from_safe(checkpoint['message_hub'])
        self._pending_rng = checkpoint.pop('rng_state', None)
        if self.strict and 'state_dict' in checkpoint:
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            theirs = {k.removeprefix('module.'): v for k, v in checkpoint['state_dict'].items()}
            path = getattr(runner, 'checkpoint_path', None)  # CrashSafeRunner names the file it loads
            check_state_dict(model, theirs, source=f'checkpoint {path}' if path else 'the loaded checkpoint')

    def before_train(self, runner) -> None:
        loop, state = runner.train_loop, self._pending_rng
        if state is None or not isinstance(loop, IterBasedTrainLoop):
            return
        self._pending_rng = None
        if loop.iter > 0 and hasattr(loop, 'resume_rng_state'):  # resumed, not loaded
            loop.resume_rng_state = state
        elif loop.iter > 0:
            runner.logger.warning(f'{type(loop).__name__} resumes with other random streams than the interrupted '
                                  'run: mmocr.ExactResumeIterBasedTrainLoop continues it exactly')

    def before_train_epoch(self, runner) -> None:
        if self._pending_rng is not None:  # epoch-based loops: before the epoch's iterator seeds itself
            if runner.iter > 0:  # resumed, not loaded
                set_rng_state(self._pending_rng)
            self._pending_rng = None

    def before_val(self, runner) -> None:
        self._rng_before_val = rng_state()

    def after_val(self, runner) -> None:
        set_rng_state(self._rng_before_val)
