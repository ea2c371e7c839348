"""NonFiniteLossHook: a NaN / Inf loss stops the run; no checkpoint with non-finite weights is ever written."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

import lmim_mm  # noqa: F401  (registers the hooks)
from lmim_mm.datasets.sources import list_folder_samples
from lmim_mm.utils.checkpoint import checkpoint_uri
from lmim_mm.utils.fileio import LAST_CHECKPOINT
from tests.helpers.tiny_configs import tiny_lmim_config, tiny_mae_config, tiny_recognizer_config
from tests.helpers.tiny_data import write_tiny_datasets

REPO = Path(__file__).resolve().parents[2]
STOP = re.compile(r'non-finite (loss \((?P<losses>[^)]*)\)|gradients|weights).* (at|after) iteration (?P<iter>\d+)'
                  r'.*The last checkpoint with finite weights is (?P<last>\S+):')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory, real_data_dir):
    root = tmp_path_factory.mktemp('data')
    write_tiny_datasets(root, list_folder_samples(real_data_dir / 'svt_test')[:16], folder_size=2)
    return root


def train(config: Path, work_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    options = ['optim_wrapper.optimizer.lr=1e10', 'default_hooks.checkpoint.by_epoch=False',
               'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=1']
    return subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir), *extra,
                           '--cfg-options', *options], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))


def finite(path: Path) -> bool:
    state = torch.load(path, map_location='cpu', weights_only=True)['state_dict']
    return all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.mark.parametrize('make_config', [tiny_recognizer_config, tiny_mae_config, tiny_lmim_config])
def test_huge_lr_stops_keeps_finite_checkpoints_and_resumes_from_the_last(make_config, tiny_data, tmp_path):
    config, work_dir = make_config(tmp_path, tiny_data), tmp_path / 'work'
    proc = train(config, work_dir)
    assert proc.returncode != 0
    stop = STOP.search(proc.stderr)
    assert stop, proc.stdout[-3000:] + proc.stderr[-3000:]
    checkpoints = sorted(work_dir.glob('*.pth'))
    assert checkpoints and all(finite(path) for path in checkpoints)
    last = (work_dir / LAST_CHECKPOINT).read_text().strip()
    assert stop['last'] == last and Path(last) in checkpoints
    assert stop['losses'] is None or re.search(r'loss=(nan|inf|-inf)', stop['losses'])

    resumed = train(config, work_dir, '--resume')
    assert resumed.returncode != 0
    assert f'Load checkpoint from {checkpoint_uri(last)}' in resumed.stdout and 'resumed epoch' in resumed.stdout
    again = STOP.search(resumed.stderr)
    assert again and again['last'] == last and int(again['iter']) > int(re.search(r'iter_(\d+)', last)[1])
    assert all(finite(path) for path in work_dir.glob('*.pth'))


class NaNAt(BaseModel):
    """A linear model whose loss is NaN at the given (1-based) iterations."""

    def __init__(self, nan_iterations) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.nan_iterations, self.calls = set(nan_iterations), 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.calls += 1
        loss = self.linear(torch.stack(inputs)).pow(2).mean()
        return dict(loss=loss * float('nan') if self.calls in self.nan_iterations else loss)


def toy_runner(work_dir: Path, nan_iterations, max_skipped_steps: int, max_iters: int = 6) -> Runner:
    data = [dict(inputs=torch.ones(2)) for _ in range(4)]
    return Runner(model=NaNAt(nan_iterations), work_dir=str(work_dir),
                  train_dataloader=dict(dataset=data, batch_size=1, sampler=dict(type='InfiniteSampler'),
                                        collate_fn=dict(type='pseudo_collate')),
                  train_cfg=dict(by_epoch=False, max_iters=max_iters),
                  optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.1)),
                  default_hooks=dict(checkpoint=dict(type='mmocr.AtomicCheckpointHook', by_epoch=False, interval=1)),
                  custom_hooks=[dict(type='mmocr.ExactResumeHook'),
                                dict(type='mmocr.NonFiniteLossHook', max_skipped_steps=max_skipped_steps)],
                  experiment_name=f'guard_{work_dir.name}')


def test_skipped_steps_leave_weights_and_optimizer_alone(tmp_path):
    runner = toy_runner(tmp_path / 'skip', nan_iterations=[3, 4], max_skipped_steps=2)
    runner.train()
    log = next((tmp_path / 'skip').glob('*/*.log')).read_text()
    assert 'iteration 3: non-finite loss (loss=nan), update skipped (1 consecutive of max_skipped_steps=2; 1 in' in log
    assert 'iteration 4: non-finite loss (loss=nan), update skipped (2 consecutive of max_skipped_steps=2; 2 in' in log
    assert runner.message_hub.get_info('non_finite_steps') == 2
    steps = {i: torch.load(tmp_path / 'skip' / f'iter_{i}.pth', weights_only=True) for i in (2, 4, 5)}
    assert torch.equal(steps[2]['state_dict']['linear.weight'], steps[4]['state_dict']['linear.weight'])
    assert not torch.equal(steps[4]['state_dict']['linear.weight'], steps[5]['state_dict']['linear.weight'])
    adam_steps = [s['optimizer']['state'][0]['step'].item() for s in steps.values()]
    assert adam_steps == [2, 2, 3]  # the optimizer's state too: skipped steps are not taken


def test_one_more_non_finite_step_than_allowed_stops(tmp_path):
    with pytest.raises(RuntimeError, match=r'non-finite loss \(loss=nan\) at iteration 4; stopping '
                                           r'\(max_skipped_steps=1\)\. The last checkpoint with finite weights is '
                                           rf'{re.escape(str(tmp_path / "stop" / "iter_3.pth"))}'):
        toy_runner(tmp_path / 'stop', nan_iterations=[3, 4], max_skipped_steps=1).train()
    assert sorted(p.name for p in (tmp_path / 'stop').glob('*.pth')) == ['iter_1.pth', 'iter_2.pth', 'iter_3.pth']


def test_checkpoint_with_non_finite_weights_is_not_written(tmp_path):
    runner = toy_runner(tmp_path / 'weights', nan_iterations=[], max_skipped_steps=0, max_iters=2)
    runner.train()
    with torch.no_grad():
        runner.model.linear.weight[0, 0] = float('inf')
    last = re.escape(str(tmp_path / 'weights' / 'iter_2.pth'))
    with pytest.raises(RuntimeError, match=r'non-finite weights \(1 tensors, e\.g\. linear\.weight\) after iteration '
                                           rf'2 .*finite weights is {last}'):
        runner.save_checkpoint(str(tmp_path / 'weights'), 'iter_3.pth')
    assert not (tmp_path / 'weights' / 'iter_3.pth').exists()
