"""Which checkpoint ``--resume`` picks when ``last_checkpoint`` is missing, empty, unreadable or stale."""
import errno
import os

import pytest
import torch

from lmim_mm.utils.fileio import atomic_write_bytes, find_resume_checkpoint, remove_temp_files


@pytest.fixture
def work_dir(tmp_path):
    for step in (2, 4):
        torch.save({'step': step}, tmp_path / f'iter_{step}.pth')
    full = (tmp_path / 'iter_4.pth').read_bytes()
    (tmp_path / 'iter_6.pth').write_bytes(full[:len(full) // 2])  # written without atomic rename, cut short
    (tmp_path / 'best_acc_iter_9.pth').write_bytes(full)  # not a resumable checkpoint name
    return tmp_path


def test_last_checkpoint_is_used_when_it_names_a_complete_file(work_dir):
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_2.pth'))
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'iter_2.pth')


@pytest.mark.parametrize('marker', [None, b'', b'\xff\xfe\x00garbage', b'/gone/iter_8.pth', b'iter_6.pth'])
def test_falls_back_to_newest_complete_checkpoint(work_dir, marker):
    if marker is not None:
        (work_dir / 'last_checkpoint').write_bytes(marker.replace(b'iter_6.pth', str(work_dir / 'iter_6.pth').encode()))
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'iter_4.pth')


def test_nothing_to_resume(tmp_path):
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(tmp_path) is None


def test_remove_temp_files_only_removes_interrupted_writes(tmp_path):
    names = ['.iter_4.pth.k2j_9abz.tmp', '.last_checkpoint.0a1b2c3d.tmp', '.hidden', 'notes.tmp', 'iter_2.pth']
    for name in names:
        (tmp_path / name).write_bytes(b'x')
    assert sorted(remove_temp_files(tmp_path)) == sorted(names[:2])
    assert sorted(os.listdir(tmp_path)) == sorted(names[2:])


def test_full_disk_names_the_file_and_keeps_the_old_content(tmp_path, monkeypatch):
    target = tmp_path / 'iter_2.pth'
    atomic_write_bytes(b'old', target)

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match=f'No space left on device .*{target}') as info:
        atomic_write_bytes(b'new', target)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert target.read_bytes() == b'old' and os.listdir(tmp_path) == ['iter_2.pth']
