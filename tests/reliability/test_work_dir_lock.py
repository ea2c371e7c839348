"""One run per work dir: a second run is refused naming the holder; a killed run's lock is taken over."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lmim_mm.datasets.sources import list_folder_samples
from lmim_mm.utils.work_dir_lock import (
    LOCK_FILE,
    WorkDirLockedError,
    acquire_work_dir_lock,
    hold_work_dir,
    release_work_dir_lock,
)
from tests.helpers.tiny_configs import tiny_mae_config
from tests.helpers.tiny_data import write_tiny_datasets

REPO = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.2)


def train_command(config: Path, work_dir: Path, *extra: str):
    return [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir), *extra]


def test_second_run_refused_and_killed_run_resumed(tmp_path, real_data_dir):
    write_tiny_datasets(tmp_path / 'data', list_folder_samples(real_data_dir / 'svt_test')[:16], folder_size=2)
    config, work_dir = tiny_mae_config(tmp_path, tmp_path / 'data', max_iters=100000), tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    first = subprocess.Popen(train_command(config, work_dir), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (work_dir / LOCK_FILE).is_file())
        holder = json.loads((work_dir / LOCK_FILE).read_text())
        assert holder['pid'] == first.pid and 'tools/train.py' in holder['command']
        second = subprocess.run(train_command(config, work_dir), cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=300)
        assert second.returncode != 0 and first.poll() is None
        assert f'WorkDirLockedError: {work_dir} is in use by another run (pid {first.pid} on ' in second.stderr
        assert len([p for p in work_dir.iterdir() if p.is_dir()]) == 1  # the refused run made no log folder
        wait_for(lambda: (work_dir / 'last_checkpoint').is_file())
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    step = int((work_dir / 'last_checkpoint').read_text().strip().rsplit('_', 1)[1].split('.')[0])
    resumed = subprocess.run(train_command(config, work_dir, '--resume', '--cfg-options',
                                           f'train_cfg.max_iters={step + 2}'),
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'taking over {work_dir / LOCK_FILE} of a run that is gone (pid {first.pid} on ' in resumed.stdout
    assert (work_dir / f'iter_{step + 2}.pth').is_file() and not (work_dir / LOCK_FILE).exists()


def test_lock_rules(tmp_path, caplog):
    sleeper = subprocess.Popen(['sleep', '60'])
    try:
        (tmp_path / LOCK_FILE).write_text(json.dumps(dict(pid=sleeper.pid, host=os.uname().nodename,
                                                          start='then', command='other run')))
        with pytest.raises(WorkDirLockedError, match=rf'{tmp_path} is in use by another run \(pid {sleeper.pid} '
                                                     r'on .*, started then: other run\)'):
            acquire_work_dir_lock(tmp_path)
        release_work_dir_lock(tmp_path)  # not ours: stays
        assert (tmp_path / LOCK_FILE).is_file()
    finally:
        sleeper.kill()
        sleeper.wait()
    acquire_work_dir_lock(tmp_path)  # the holder is gone: taken over
    assert json.loads((tmp_path / LOCK_FILE).read_text())['pid'] == os.getpid()
    acquire_work_dir_lock(tmp_path)  # already ours
    release_work_dir_lock(tmp_path)
    assert not (tmp_path / LOCK_FILE).exists() and [p.name for p in tmp_path.iterdir()] == []


def test_hold_work_dir_gives_each_run_its_own_second(tmp_path):
    now = time.strftime('%Y%m%d_%H%M%S')
    (tmp_path / now).mkdir()  # a run that started this second
    with hold_work_dir(tmp_path):
        assert (tmp_path / LOCK_FILE).is_file() and time.strftime('%Y%m%d_%H%M%S') != now
    assert not (tmp_path / LOCK_FILE).exists()
    with hold_work_dir(tmp_path, rank=1):  # other ranks leave it to rank 0
        assert not (tmp_path / LOCK_FILE).exists()
