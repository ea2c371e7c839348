"""mmengine's ``CheckpointHook`` made crash-safe: a kill or a full disk never loses the last checkpoint."""
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmocr.registry import HOOKS

from lmim_mm.utils.fileio import (LAST_CHECKPOINT, atomic_write_bytes, checkpoint_step, find_resume_checkpoint,
                                   remove_temp_files)
from lmim_mm.utils.work_dir_lock import acquire_work_dir_lock, release_work_dir_lock


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints survive ``kill -9`` and full disks at any moment.

    mmengine 0.10.7 deletes the oldest kept checkpoint *before* writing the new one and rewrites
    ``last_checkpoint`` in place, so with ``max_keep_ckpts=1`` a kill (or ``ENOSPC``) during a save
    loses the whole run. Here a save is:

    1. the new checkpoint written atomically (``atomic_local`` backend: temporary file, fsync, rename);
    2. ``work_dir/last_checkpoint`` replaced the same way;
    3. only then the checkpoint that fell out of ``max_keep_ckpts`` deleted.

    Best checkpoints (``save_best``) likewise: the new best is written before the previous one goes.

    At start (``before_run``), a run with ``resume=True`` and no explicit checkpoint resumes from
    :func:`~lmim_mm.utils.fileio.find_resume_checkpoint` (the newest complete checkpoint when
    ``last_checkpoint`` is missing, empty or stale, with a warning). When training starts, the main
    process takes the work dir's lock (:mod:`lmim_mm.utils.work_dir_lock`: refused while another live
    run holds it, released when training ends); only then are the temporary files of interrupted
    writes deleted, and the checkpoints a killed run had already dropped from its kept list, so the
    clean-up only touches files of runs that are gone.
    A failed write raises an ``OSError`` naming the file, and the previous checkpoint stays.

    Args:
        backend_args: File backend of the checkpoints (default: ``dict(backend='atomic_local')``).
        **kwargs: Arguments of mmengine's ``CheckpointHook``.
    """

    def __init__(self, *args, backend_args=None, **kwargs) -> None:
        super().__init__(*args, backend_args=backend_args or dict(backend='atomic_local'), **kwargs)

    def before_run(self, runner) -> None:
        if runner._resume and runner._load_from is None:  # mmengine's "auto resume"
            runner._load_from = find_resume_checkpoint(runner.work_dir)
            runner._resume = runner._load_from is not None
            if not runner._resume:
                runner.logger.warning(f'nothing to resume in {runner.work_dir}: training from the start')

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

    def _best_paths(self) -> Dict[str, Optional[str]]:
        """The current best checkpoint of each ``save_best`` indicator (``None``: none yet)."""
        if len(self.key_indicators) == 1:
            return {self.key_indicators[0]: self.best_ckpt_path}
        return {key: self.best_ckpt_path_dict.get(key) for key in self.key_indicators}

    def _set_best_paths(self, paths: Dict[str, Optional[str]]) -> None:
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = paths[self.key_indicators[0]]
        else:
            self.best_ckpt_path_dict.update(paths)

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        """mmengine's, except that a previous best checkpoint is deleted only after the new one is written.

        mmengine deletes it first, so a kill or a full disk in between leaves no best checkpoint. Here
        mmengine's method runs with no previous best known to it (so it deletes nothing); the previous
        best of each indicator that got a new one is deleted afterwards.
        """
        if not self.save_best:
            return
        previous = self._best_paths()
        self._set_best_paths(dict.fromkeys(previous))
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            written = self._best_paths()
            self._set_best_paths({key: written[key] or previous[key] for key in previous})
        if not is_main_process():
            return
        for key, old in previous.items():
            if old and written[key] and written[key] != old and self.file_backend.isfile(old):
                self.file_backend.remove(old)
                runner.logger.info(f'The previous best checkpoint {old} is removed')

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        dropped = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                dropped.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
                               save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
                               backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_bytes(self.last_ckpt.encode('utf-8'), osp.join(runner.work_dir, LAST_CHECKPOINT))
        for old in dropped:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
