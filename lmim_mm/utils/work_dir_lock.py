"""One training run per work dir: ``work_dir/run.lock`` names the run holding it (pid, host, start time, command). It
is created whole or not at all (a temporary file hard-linked to its name), and taken over with a warning when its
holder is gone (same host, pid no longer running, e.g. after ``kill -9``)."""
import contextlib
import json
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional, Union

from mmengine.logging import print_log

LOCK_FILE = 'run.lock'


class WorkDirLockedError(RuntimeError):
    """The work dir is held by another live run; the message names the work dir and the holder."""


def _read_holder(path: Path) -> Optional[dict]:
    """The lock's content (``{}`` when unreadable), ``None`` when there is no lock."""
    try:
        holder = json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` of this host runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f'/proc/{pid}/stat').read_text().rsplit(') ', 1)[1][0] != 'Z'
    except (OSError, IndexError):
        return True


def _describe(holder: dict) -> str:
    return (f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('start')}: "
            f"{holder.get('command')}")


def acquire_work_dir_lock(work_dir: Union[str, os.PathLike]) -> None:
    """Make this process the holder of ``work_dir``'s lock (the folder created; nothing happens if it already is);
    :class:`WorkDirLockedError` if another process that still runs (or runs on another host, unchecked) holds it."""
    path = Path(work_dir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    me = dict(pid=os.getpid(), host=socket.gethostname(), start=time.strftime('%Y-%m-%d %H:%M:%S'),
              command=' '.join([sys.executable] + sys.argv))
    # '.new', not '.tmp': the start-up clean-up of fileio.remove_temp_files must not delete it
    fd, tmp = tempfile.mkstemp(prefix=f'.{LOCK_FILE}.', suffix='.new', dir=path.parent)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(me, f)
        while True:
            try:
                os.link(tmp, path)
                return
            except FileExistsError:
                holder = _read_holder(path)
            if holder is None:  # released in the meantime
                continue
            if (holder.get('pid'), holder.get('host')) == (me['pid'], me['host']):
                return
            if holder.get('host') != me['host'] or (isinstance(holder.get('pid'), int) and _is_running(holder['pid'])):
                raise WorkDirLockedError(f'{work_dir} is in use by another run ({_describe(holder)}); lock file '
                                         f'{path}: delete it only if that run is gone, or pass another --work-dir')
            print_log(f'taking over {path} of a run that is gone ({_describe(holder)})', logger='current',
                      level=logging.WARNING)
            path.unlink(missing_ok=True)
    finally:
        os.remove(tmp)


def release_work_dir_lock(work_dir: Union[str, os.PathLike]) -> None:
    """Delete ``work_dir``'s lock if this process holds it."""
    path = Path(work_dir) / LOCK_FILE
    holder = _read_holder(path) or {}
    if (holder.get('pid'), holder.get('host')) == (os.getpid(), socket.gethostname()):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def hold_work_dir(work_dir: Union[str, os.PathLike], rank: int = 0) -> Iterator[None]:
    """Hold ``work_dir``'s lock in the block on global ``rank`` 0 only (a multi-process run takes it once), then wait
    (at most a second) until the current second names no folder of ``work_dir``: mmengine's Runner names the log folder
    ``%Y%m%d_%H%M%S`` by its start second, so the run built in the block gets a log folder of its own."""
    if rank != 0:
        yield
        return
    acquire_work_dir_lock(work_dir)
    try:
        while (Path(work_dir) / time.strftime('%Y%m%d_%H%M%S')).exists():
            time.sleep(0.05)
        yield
    finally:
        release_work_dir_lock(work_dir)
