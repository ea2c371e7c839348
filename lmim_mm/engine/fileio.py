"""Atomic local file backend for checkpoints.

``CheckpointHook(backend_args=dict(backend='atomic_local'))`` (our default runtime config) makes
every checkpoint and ``last_checkpoint`` appear whole or not at all: bytes go to a temporary file in
the same folder, are flushed to disk, then renamed over the target. A run killed mid-save leaves the
previous checkpoint intact.
"""
import os
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically (temporary file + fsync + ``os.replace``).

    Args:
        data: Bytes to write.
        filepath: Destination; its folder is created if needed.
    """
    filepath = Path(filepath)
    filepath.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{filepath.name}.', suffix='.tmp', dir=filepath.parent)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class AtomicLocalBackend(LocalBackend):
    """mmengine ``LocalBackend`` whose writes are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


register_backend('atomic_local', AtomicLocalBackend, force=True)
