"""Stop a run at a non-finite (NaN / Inf) loss before it reaches the weights or a checkpoint."""
import math
from pathlib import Path
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict
from mmocr.registry import HOOKS

from lmim_mm.utils.fileio import LAST_CHECKPOINT


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at a non-finite loss; write no checkpoint with non-finite weights (``--resume`` takes the last).

    1. Before every optimizer step: a NaN / Inf gradient drops all gradients, voiding the step (as fp16's scaler does).
    2. After every iteration, before the checkpoint hook: a non-finite loss (a key of ``outputs`` holding ``'loss'``)
       or a skipped step counts. Up to ``max_skipped_steps`` (0: none) consecutive ones are skipped with a warning
       (run total: the message hub's ``non_finite_steps``); one more raises a ``RuntimeError`` naming the iteration,
       the losses and the last checkpoint with finite weights (with DDP every rank stops at the same step).
    3. Before a checkpoint is written: non-finite weights (e.g. after a huge update) raise the same error."""

    priority = 'ABOVE_NORMAL'

    def __init__(self, max_skipped_steps: int = 0) -> None:
        if max_skipped_steps < 0:
            raise ValueError(f'max_skipped_steps must be >= 0, got {max_skipped_steps}')
        self.max_skipped_steps = max_skipped_steps
        self.consecutive = 0
        self._skipped_step = False
        self._last_losses: Dict[str, float] = {}
        self._last_iteration = 0
        self._step_hooks: list = []

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        wrappers = wrapper.values() if isinstance(wrapper, OptimWrapperDict) else [wrapper]
        self._step_hooks = [w.optimizer.register_step_pre_hook(self._skip_non_finite_step) for w in wrappers]

    def after_train(self, runner) -> None:
        for handle in self._step_hooks:
            handle.remove()
        self._step_hooks = []

    def _skip_non_finite_step(self, optimizer: torch.optim.Optimizer, args, kwargs) -> None:
        """Drop all gradients of ``optimizer`` when one is non-finite: its step then changes nothing."""
        params = [p for group in optimizer.param_groups for p in group['params'] if p.grad is not None]
        if params and not torch.stack([torch.isfinite(p.grad).all() for p in params]).all():
            for param in params:
                param.grad = None
            self._skipped_step = True

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        self._last_losses = {k: torch.as_tensor(v).item() for k, v in (outputs or {}).items() if 'loss' in k}
        self._last_iteration = runner.iter + 1
        bad = [key for key, value in self._last_losses.items() if not math.isfinite(value)]
        skipped, self._skipped_step = self._skipped_step, False
        if not bad and not skipped:
            self.consecutive = 0
            return
        self.consecutive += 1
        runner.message_hub.update_info('non_finite_steps', runner.message_hub.get_info('non_finite_steps', 0) + 1)
        what = f'non-finite loss ({self._describe_losses()})' if bad else 'non-finite gradients'
        if self.consecutive > self.max_skipped_steps:
            raise RuntimeError(self._stop_message(runner, f'{what} at iteration {self._last_iteration}'))
        update = 'update skipped' if skipped else 'update kept (its gradients were finite)'
        runner.logger.warning(f'iteration {self._last_iteration}: {what}, {update} ({self.consecutive} '
                              f'consecutive of max_skipped_steps={self.max_skipped_steps}; '
                              f'{runner.message_hub.get_info("non_finite_steps")} in this run)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        bad = [name for name, value in checkpoint.get('state_dict', {}).items()
               if torch.is_tensor(value) and value.is_floating_point() and not torch.isfinite(value).all()]
        if bad:
            raise RuntimeError(self._stop_message(
                runner, f'non-finite weights ({len(bad)} tensors, e.g. {bad[0]}) after iteration '
                f'{self._last_iteration} (losses: {self._describe_losses()}); that checkpoint is not written'))

    def _describe_losses(self) -> str:
        return ', '.join(f'{key}={value:.4g}' for key, value in self._last_losses.items()) or 'none logged'

    def _stop_message(self, runner, what: str) -> str:
        marker = Path(runner.work_dir) / LAST_CHECKPOINT
        last = marker.read_text(encoding='utf-8').strip() if marker.is_file() else ''
        return (f'{what}; stopping (max_skipped_steps={self.max_skipped_steps}). The last checkpoint with finite '
                f'weights is {last or "none (no checkpoint written yet)"}: lower the learning rate or loss weights, '
                f'or resume from it with tools/train.py CONFIG --resume')
