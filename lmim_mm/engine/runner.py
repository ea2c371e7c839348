"""mmengine's Runner and iteration-based loop, extended through their public methods for crash-safe, exact resumes."""
import bisect
import itertools
from typing import Any, Dict, Iterator, Optional

import torch.nn as nn
from mmengine.runner import IterBasedTrainLoop, Runner
from mmocr.registry import LOOPS, RUNNERS
from torch.utils.data import DataLoader

from lmim_mm.utils.checkpoint import checkpoint_uri
from lmim_mm.utils.fileio import find_resume_checkpoint
from .hooks.exact_resume import set_rng_state


@RUNNERS.register_module()
class CrashSafeRunner(Runner):
    """mmengine's ``Runner`` (same arguments; ``runner_type='mmocr.CrashSafeRunner'``) where ``resume=True`` without
    ``load_from`` resumes from :func:`~lmim_mm.utils.fileio.find_resume_checkpoint` and local checkpoints are read by
    :func:`~lmim_mm.utils.checkpoint.torch_load` (errors name the file; so does :attr:`checkpoint_path`)."""

    def __init__(self, *args, resume: bool = False, load_from: Optional[str] = None, **kwargs) -> None:
        self.resume_newest = resume and load_from is None
        self.checkpoint_path: Optional[str] = None
        super().__init__(*args, resume=resume and not self.resume_newest, load_from=load_from, **kwargs)

    def load_or_resume(self) -> None:
        if self.resume_newest:
            self.resume_newest = False
            checkpoint = find_resume_checkpoint(self.work_dir)
            if checkpoint is None:
                self.logger.warning(f'nothing to resume in {self.work_dir}: training from the start')
            else:
                self.resume(checkpoint)
        super().load_or_resume()

    def load_checkpoint(self, filename: str, *args, **kwargs) -> Any:
        self.checkpoint_path = filename
        return super().load_checkpoint(checkpoint_uri(filename), *args, **kwargs)


def endless_batches(loader: DataLoader) -> Iterator[Any]:
    """The batches of ``loader`` pass after pass, each new pass's epoch told to the sampler (as mmengine's)."""
    sampler = loader.sampler if hasattr(loader.sampler, 'set_epoch') else getattr(loader.batch_sampler, 'sampler', None)
    for epoch in itertools.count(1):
        yield from loader
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(epoch)


@LOOPS.register_module()
class ExactResumeIterBasedTrainLoop(IterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop`` (same arguments) whose resumed run continues as the interrupted one: after
    skipping the batches already trained on, it restores the checkpoint's RNG states (:attr:`resume_rng_state`, set by
    :class:`~lmim_mm.engine.hooks.ExactResumeHook`) just before the first batch to train on is fetched, as the
    uninterrupted run's data loader (iterator, workers or single-process pipeline) drew from the global RNG there."""

    resume_rng_state: Optional[Dict[str, Any]] = None

    def run(self) -> nn.Module:
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        batches = endless_batches(self.dataloader)
        for _ in range(self.iter):
            next(batches)
        if self.resume_rng_state is not None:
            set_rng_state(self.resume_rng_state)
            self.resume_rng_state = None
        while self.iter < self.max_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(batches))
            self.val_interval = self.dynamic_intervals[bisect.bisect(self.dynamic_milestones, self.iter + 1) - 1]
            if self.runner.val_loop is not None and self.iter >= self.val_begin and (
                    self.iter % self.val_interval == 0 or self.iter == self.max_iters):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model
