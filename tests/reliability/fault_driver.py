"""Run a tiny MAE training, kill it with SIGKILL (or fill the disk) at a chosen moment, resume, report.

Usage: ``python fault_driver.py DATA_ROOT OUT_DIR SCENARIO [SCENARIO ...]``; prints one JSON object.

The imports are paid once: every run is a ``fork`` of this process. A run is killed by sending
itself ``SIGKILL`` from inside the file-writing calls it makes (``os.fsync`` / ``os.replace`` of the
atomic checkpoint writes, mmengine's ``open`` of ``last_checkpoint``; wrapped in the child only), so
each kill lands exactly where the scenario says: no handler, ``finally`` or flush runs, as with
``kill -9`` from outside. Every scenario then resumes in the same work dir with ``resume=True`` (what
``tools/train.py --resume`` sets) and must end with weights ``torch.equal`` to an uninterrupted run.
``max_keep_ckpts=1`` throughout.
"""
import builtins
import errno
import json
import os
import signal
import sys
import traceback
from pathlib import Path

MAX_ITERS, INTERVAL, STEP = 8, 2, 4  # checkpoints at 2, 4, 6, 8; faults hit the one of iteration 4
TARGET = f'iter_{STEP}.pth'
REPO = Path(__file__).resolve().parents[2]


def build_runner(data_root: str, work_dir: Path, name: str, resume: bool):
    from mmengine.config import Config

    from lmim_mm.utils.run_config import build_runner as build_configured_runner
    from lmim_mm.utils.run_config import use_cpu_settings

    config, = sorted((REPO / 'configs' / 'mae').glob('*.py'))
    cfg = Config.fromfile(str(config))
    cfg.model.backbone = dict(type='mmpretrain.TextViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2),
                              out_type='raw')
    cfg.model.neck.update(in_channels=32, embed_dim=32, depth=1, num_heads=2)
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False, pin_memory=False)
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_cfg = dict(type='mmocr.ExactResumeIterBasedTrainLoop', max_iters=MAX_ITERS)
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=MAX_ITERS, by_epoch=False, begin=0, end=MAX_ITERS)]
    cfg.default_hooks.checkpoint.update(by_epoch=False, interval=INTERVAL, max_keep_ckpts=1)
    cfg.log_processor = dict(by_epoch=False)
    for key in ('test_dataloader', 'test_evaluator', 'test_cfg', 'val_dataloader', 'val_evaluator', 'val_cfg'):
        cfg.pop(key, None)
    cfg.work_dir, cfg.experiment_name = str(work_dir), name
    cfg.resume, cfg.load_from = resume, None
    use_cpu_settings(cfg)
    return build_configured_runner(cfg)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class DieOnClose:
    """A file that kills the process once it is written and closed."""

    def __init__(self, file) -> None:
        self.file = file

    def __enter__(self) -> 'DieOnClose':
        return self

    def write(self, text: str) -> int:
        return self.file.write(text)

    def __exit__(self, *exc) -> None:
        self.file.close()
        die()


def arm(point: str, work_dir: Path):
    """Wrap ``os.fsync`` / ``os.replace`` / ``open`` so that the fault ``point`` happens; returns a hook or None."""
    from mmengine.hooks import Hook

    real_fsync, real_replace, real_open = os.fsync, os.replace, builtins.open

    def fsync(fd: int) -> None:
        name = os.path.basename(os.readlink(f'/proc/self/fd/{fd}'))
        writing_target = name.startswith(f'.{TARGET}.')
        if point == 'checkpoint_half_written' and writing_target:
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            die()
        if point == 'first_checkpoint_half_written' and name.startswith(f'.iter_{INTERVAL}.pth.'):
            die()
        if point == 'disk_full' and writing_target:
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    def replace(src, dst) -> None:
        real_replace(src, dst)
        if point == 'checkpoint_renamed' and os.path.basename(dst) == TARGET:
            die()

    def open_(file, mode='r', *args, **kwargs):
        opened = real_open(file, mode, *args, **kwargs)
        if 'w' in mode and os.path.basename(str(file)) == 'last_checkpoint' and (work_dir / TARGET).exists():
            if point == 'last_checkpoint_half_written':
                die()  # emptied by the open, not yet written
            if point == 'last_checkpoint_updated':
                return DieOnClose(opened)  # written; the previous checkpoint not yet deleted
        return opened

    os.fsync, os.replace, builtins.open = fsync, replace, open_

    class KillAt(Hook):
        def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
            if runner.iter == STEP + 1:
                die()

    return KillAt() if point == 'mid_iteration' else None


def run_child(data_root: str, work_dir: Path, name: str, point: str = '', resume: bool = False) -> dict:
    """Train in a forked child; returns its exit status and, if it failed, its error."""
    err_file = work_dir.parent / f'{name}.err'
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            hook = arm(point, work_dir) if point else None
            runner = build_runner(data_root, work_dir, name, resume)
            if hook is not None:
                runner.register_hook(hook, 'LOWEST')
            runner.train()
        except BaseException:
            err_file.write_text(traceback.format_exc())
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return dict(killed=os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
                exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                error=err_file.read_text() if err_file.exists() else '')


def final_weights(work_dir: Path) -> dict:
    from lmim_mm.utils.checkpoint import load_state_dict_file

    return load_state_dict_file(str(work_dir / f'iter_{MAX_ITERS}.pth'))


def main() -> None:
    import torch

    import lmim_mm  # noqa: F401  (imports everything before the forks)

    data_root, out = sys.argv[1], Path(sys.argv[2])
    straight_dir = out / 'straight'
    straight = run_child(data_root, straight_dir, 'straight')
    reference = final_weights(straight_dir)
    report = dict(straight=dict(straight, files=sorted(os.listdir(straight_dir))))
    for point in sys.argv[3:]:
        work_dir = out / point
        faulted = run_child(data_root, work_dir, f'{point}_faulted', point)
        after_fault = sorted(os.listdir(work_dir)) if work_dir.exists() else []
        resumed = run_child(data_root, work_dir, f'{point}_resumed', resume=True)
        equal = None
        if resumed['exit_code'] == 0:
            weights = final_weights(work_dir)
            equal = weights.keys() == reference.keys() and all(torch.equal(weights[k], reference[k]) for k in weights)
        report[point] = dict(faulted=faulted, files_after_fault=after_fault, resumed=resumed,
                             files_after_resume=sorted(os.listdir(work_dir)), equal=equal)
    print(json.dumps(report))


if __name__ == '__main__':
    main()
