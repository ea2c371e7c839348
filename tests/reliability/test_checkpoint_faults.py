"""Kill -9 and a full disk at every moment of a checkpoint save: the run resumes and ends bit-identical.

The tiny MAE runs of :mod:`fault_driver` (8 iterations, a checkpoint every 2, ``max_keep_ckpts=1``)
are forked from one process; each fault hits the save of ``iter_4.pth`` unless named otherwise.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmim_mm.datasets.sources import list_folder_samples
from tests.helpers.tiny_data import write_tiny_datasets

HERE = Path(__file__).resolve().parent
KILLS = ['first_checkpoint_half_written', 'checkpoint_half_written', 'checkpoint_renamed',
         'last_checkpoint_half_written', 'last_checkpoint_updated', 'mid_iteration']


@pytest.fixture(scope='module')
def report(tmp_path_factory, real_data_dir) -> dict:
    root = tmp_path_factory.mktemp('faults')
    write_tiny_datasets(root / 'data', list_folder_samples(real_data_dir / 'svt_test')[:16])
    proc = subprocess.run([sys.executable, str(HERE / 'fault_driver.py'), str(root / 'data' / 'unlabeled'),
                           str(root / 'runs'), *KILLS, 'disk_full'], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-5000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report['straight']['exit_code'] == 0, report['straight']['error']
    assert [f for f in report['straight']['files'] if f.endswith('.pth')] == ['iter_8.pth']
    return report


def check_resumed(result: dict) -> None:
    resumed = result['resumed']
    assert resumed['exit_code'] == 0, resumed['error']
    assert result['equal'] is True  # torch.equal on every tensor with the uninterrupted run
    files = result['files_after_resume']
    assert [f for f in files if f.endswith('.pth')] == ['iter_8.pth']  # max_keep_ckpts=1, strays pruned
    assert not [f for f in files if f.endswith('.tmp')]  # temporary files of the killed write removed


@pytest.mark.parametrize('point', KILLS)
def test_kill_resumes_bit_identical(report, point):
    result = report[point]
    assert result['faulted']['killed'], result['faulted']
    check_resumed(result)


def test_kill_mid_write_keeps_previous_checkpoint(report):
    """Killed while ``iter_4.pth`` is half written: ``iter_2.pth`` and ``last_checkpoint`` still stand."""
    files = report['checkpoint_half_written']['files_after_fault']
    assert 'iter_2.pth' in files and 'iter_4.pth' not in files and 'last_checkpoint' in files
    assert any(f.startswith('.iter_4.pth.') and f.endswith('.tmp') for f in files)


def test_kill_before_pruning_keeps_both(report):
    files = report['last_checkpoint_updated']['files_after_fault']
    assert {'iter_2.pth', 'iter_4.pth'} <= set(files)


def test_full_disk_names_file_keeps_last_good_checkpoint_and_resumes(report):
    result = report['disk_full']
    assert result['faulted']['exit_code'] == 1 and not result['faulted']['killed']
    error = result['faulted']['error'].strip().splitlines()[-1]
    assert 'No space left on device' in error and 'iter_4.pth' in error
    files = result['files_after_fault']
    assert 'iter_2.pth' in files and not [f for f in files if f.endswith('.tmp')]
    check_resumed(result)
