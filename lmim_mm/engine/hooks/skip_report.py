"""Per-epoch report of the training images skipped as unreadable, summed over workers and ranks."""
from typing import Iterator

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop
from mmocr.registry import HOOKS

from lmim_mm.datasets.lazy_dataset import LazyImageDataset


def lazy_datasets(dataset) -> Iterator[LazyImageDataset]:
    """The :class:`LazyImageDataset` objects in ``dataset`` and its wrappers (concatenation, repeat)."""
    if isinstance(dataset, LazyImageDataset):
        yield dataset
    for inner in getattr(dataset, 'datasets', ()):
        yield from lazy_datasets(inner)
    if getattr(dataset, 'dataset', None) is not None:
        yield from lazy_datasets(dataset.dataset)


@HOOKS.register_module()
class SkipReportHook(Hook):
    """Log per root of the training data the images read, skipped and filtered by all data loader workers
    (:meth:`LazyImageDataset.epoch_stats`) and ranks, after every epoch and (iteration-based loops) after training."""

    priority = 'BELOW_NORMAL'

    def before_train_epoch(self, runner) -> None:
        for dataset in lazy_datasets(runner.train_dataloader.dataset):
            dataset.reset_stats()

    def after_train_epoch(self, runner) -> None:
        self._report(runner, f'epoch {runner.epoch + 1}')

    def after_train(self, runner) -> None:
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            self._report(runner, f'{runner.iter} iterations')

    @staticmethod
    def _report(runner, when: str) -> None:
        for dataset in lazy_datasets(runner.train_dataloader.dataset):
            stats = dataset.epoch_stats()
            counts = torch.tensor([[s.seen, s.skipped, s.filtered] for s in stats.values()], dtype=torch.int64)
            all_reduce(counts, op='sum')
            for root, (seen, skipped, filtered) in zip(stats, counts.tolist()):
                runner.logger.info(f'{when}: {root}: {seen} images read, {skipped} skipped as unreadable, '
                                   f'{filtered} samples filtered (all ranks and workers)')
