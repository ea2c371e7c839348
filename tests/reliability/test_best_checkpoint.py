"""AtomicCheckpointHook keeps the previous best checkpoint until the new best one is written."""
from pathlib import Path

from mmengine.logging import MessageHub, MMLogger

from lmim_mm.engine.hooks.checkpoint import AtomicCheckpointHook
from lmim_mm.utils.fileio import AtomicLocalBackend


class RecordingRunner:
    """The parts of a runner the hook's ``after_val_epoch`` uses; each save records the files present."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir, self.epoch, self.iter = str(work_dir), 0, 0
        self.message_hub = MessageHub.get_instance('test_best_checkpoint')
        self.logger = MMLogger.get_current_instance()
        self.present_at_save = {}

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        self.present_at_save[filename] = sorted(p.name for p in Path(out_dir).iterdir())
        Path(out_dir, filename).write_bytes(b'weights')


def test_previous_best_is_deleted_only_after_the_new_best_is_written(tmp_path):
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, save_best='acc', rule='greater')
    hook.out_dir, hook.file_backend, hook.last_ckpt = str(tmp_path), AtomicLocalBackend(), None
    runner = RecordingRunner(tmp_path)
    for step, acc in ((1, 0.5), (2, 0.7), (3, 0.6)):
        runner.iter = step
        hook.after_val_epoch(runner, {'acc': acc})
    # the new best was written while the previous one still existed (mmengine deletes it first) ...
    assert runner.present_at_save['best_acc_iter_2.pth'] == ['best_acc_iter_1.pth']
    # ... then the previous one went; a worse score changes nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ['best_acc_iter_2.pth']
    assert hook.best_ckpt_path == str(tmp_path / 'best_acc_iter_2.pth')
    assert runner.message_hub.get_info('best_score') == 0.7
