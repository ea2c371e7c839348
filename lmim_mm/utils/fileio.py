"""Checkpoint files: atomic writes (the ``atomic_local`` file backend), leftover clean-up, the checkpoint to resume."""
import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import List, Optional, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

PathLike = Union[str, os.PathLike]

#: Temporary files ``.<name>.<8 random characters>.tmp`` of :func:`atomic_write_bytes` that a kill left behind.
_TEMP_FILE = re.compile(r'^\..+\.[a-z0-9_]{8}\.tmp$')
LAST_CHECKPOINT = 'last_checkpoint'


def atomic_write_bytes(data: bytes, filepath: PathLike) -> None:
    """Write ``data`` to ``filepath`` (its folder created) atomically: temporary file + fsync + ``os.replace``. An
    ``OSError`` (e.g. ``ENOSPC``) names ``filepath`` and keeps its previous content (the temporary file removed)."""
    filepath = Path(filepath)
    filepath.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{filepath.name}.', suffix='.tmp', dir=filepath.parent)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None:
            raise OSError(err.errno, f'{err.strerror} (while writing {filepath})', str(filepath)) from err
        raise
    try:  # make the rename durable (skipped where directories cannot be opened)
        fd = os.open(filepath.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temp_files(folder: PathLike) -> List[str]:
    """Delete (and return the names of) the temporary files a killed :func:`atomic_write_bytes` left in ``folder``."""
    folder = Path(folder)
    removed = [p.name for p in folder.glob('.*.tmp') if p.is_file() and _TEMP_FILE.match(p.name)]
    for name in removed:
        (folder / name).unlink(missing_ok=True)
    if removed:
        print_log(f'removed {len(removed)} unfinished temporary file(s) of an interrupted write in {folder}: '
                  f'{removed}', logger='current', level=logging.WARNING)
    return removed


def is_complete_checkpoint(path: PathLike) -> bool:
    """Whether ``path`` is a whole ``torch.save`` file (its zip directory, at the end, is readable)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def checkpoint_step(path: PathLike) -> Optional[int]:
    """The ``n`` of an ``epoch_<n>.pth`` / ``iter_<n>.pth`` name (mmengine's CheckpointHook's), ``None`` for others."""
    match = re.match(r'^(epoch|iter)_(\d+)\.pth$', Path(path).name)
    return int(match.group(2)) if match else None


def find_resume_checkpoint(work_dir: PathLike) -> Optional[str]:
    """The checkpoint to resume a run in ``work_dir`` from: the one ``work_dir/last_checkpoint`` names if complete,
    else (a warning says so) the newest complete ``epoch_<n>.pth`` / ``iter_<n>.pth`` (highest ``n``, then newest
    file) of ``work_dir`` and of the folder ``last_checkpoint`` names; ``None`` if there is none."""
    work_dir = Path(work_dir)
    marker = work_dir / LAST_CHECKPOINT
    named, problem = '', f'{marker} does not exist'
    if marker.is_file():
        try:
            named = marker.read_text(encoding='utf-8').strip()
            problem = f'{marker} names {named!r}, which is missing or truncated'
        except (OSError, UnicodeDecodeError) as err:
            problem = f'{marker} is unreadable ({err})'
    if named and is_complete_checkpoint(named):
        return named
    folders = {work_dir} | ({Path(named).parent} if named else set())
    candidates = [p for folder in folders if folder.is_dir() for p in folder.iterdir()
                  if checkpoint_step(p) is not None and is_complete_checkpoint(p)]
    if not candidates:
        print_log(f'{problem} and there is no complete checkpoint in {sorted(map(str, folders))}',
                  logger='current', level=logging.WARNING)
        return None
    newest = max(candidates, key=lambda p: (checkpoint_step(p), p.stat().st_mtime))
    print_log(f'{problem}; resuming from the newest complete checkpoint instead: {newest}', logger='current',
              level=logging.WARNING)
    return str(newest)


class AtomicLocalBackend(LocalBackend):
    """mmengine ``LocalBackend`` writing atomically; :meth:`remove` only notes a file for :meth:`remove_pending`, which
    :class:`~lmim_mm.engine.hooks.AtomicCheckpointHook` calls once the new checkpoint is written."""

    def __init__(self) -> None:
        super().__init__()
        self.pending_removals: List[str] = []

    def put(self, obj: bytes, filepath: PathLike) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: PathLike, encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)

    def remove(self, filepath: PathLike) -> None:
        self.pending_removals.append(str(filepath))

    def remove_pending(self) -> None:
        """Delete the files :meth:`remove` noted (those already gone are passed over)."""
        while self.pending_removals:
            Path(self.pending_removals.pop(0)).unlink(missing_ok=True)


register_backend('atomic_local', AtomicLocalBackend)
