"""mmengine's ``CheckpointHook`` made crash-safe: a kill or a full disk never loses the last checkpoint."""
import os.path as osp
from pathlib import Path
from typing import Dict, List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmocr.registry import HOOKS

from lmim_mm.utils.fileio import checkpoint_step, remove_temp_files
from lmim_mm.utils.work_dir_lock import acquire_work_dir_lock, release_work_dir_lock


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments but the backend) whose checkpoints survive ``kill -9`` and full
    disks: mmengine deletes the oldest kept (and the previous best) checkpoint *before* writing the new one (with
    ``max_keep_ckpts=1`` a kill or ``ENOSPC`` loses the run); here :class:`~lmim_mm.utils.fileio.AtomicLocalBackend`
    writes each atomically (a failed write raises an ``OSError`` naming the file) and the removals wait until it is
    saved. When training starts, the main process takes the work dir's lock (:mod:`lmim_mm.utils.work_dir_lock`), then
    deletes interrupted writes' temporary files and the checkpoints a killed run had already dropped."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, backend_args=dict(backend='atomic_local'), **kwargs)

    def before_train(self, runner) -> None:
        if is_main_process():
            acquire_work_dir_lock(runner.work_dir)
        super().before_train(runner)
        if not is_main_process():
            return
        for folder in {runner.work_dir, self.out_dir}:
            remove_temp_files(folder)
        for path in self._dropped_checkpoints():
            runner.logger.warning(f'removing {path}: a checkpoint the interrupted run had already dropped')
            Path(path).unlink()
        self.file_backend.remove_pending()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        self.file_backend.remove_pending()

    def after_train_epoch(self, runner) -> None:
        super().after_train_epoch(runner)
        self.file_backend.remove_pending()

    def after_val_epoch(self, runner, metrics: Dict[str, float]) -> None:
        super().after_val_epoch(runner, metrics)
        self.file_backend.remove_pending()

    def after_train(self, runner) -> None:
        super().after_train(runner)
        if is_main_process():
            release_work_dir_lock(runner.work_dir)

    def _dropped_checkpoints(self) -> List[str]:
        """Checkpoints older than the newest kept one that are not kept (left by a kill before pruning)."""
        kept = list(getattr(self, 'keep_ckpt_ids', []))
        if not kept or not osp.isdir(self.out_dir):
            return []
        steps = sorted({checkpoint_step(path) for path in Path(self.out_dir).iterdir()} - {None})
        paths = [osp.join(self.out_dir, self.filename_tmpl.format(s)) for s in steps if s < kept[-1] and s not in kept]
        return [path for path in paths if osp.isfile(path)]
