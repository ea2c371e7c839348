"""Tiny datasets of every on-disk kind, for tests that run the real tools and configs."""
import shutil
import struct
import zlib
from pathlib import Path
from typing import Optional, Sequence, Tuple

from lmim_mm.datasets.sources import files_to_lmdb


def write_tiny_datasets(root: Path, samples: Sequence[Tuple[str, str]], folder_size: Optional[int] = None) -> None:
    """Write ``root/labeled`` and ``root/unlabeled`` (LMDBs) and ``root/folder`` (``IMG/`` + ``label/``).

    Args:
        root: Output folder.
        samples: ``(image path, label)`` pairs, e.g. from ``list_folder_samples``.
        folder_size: Samples copied into the folder (numbered ``1..k``); default all.
    """
    files_to_lmdb(samples, root / 'labeled', progress=False)
    files_to_lmdb([(path, None) for path, _ in samples], root / 'unlabeled', progress=False)
    for sub in ('IMG', 'label'):
        (root / 'folder' / sub).mkdir(parents=True)
    for i, (path, label) in enumerate(samples[:folder_size], 1):
        shutil.copy(path, root / 'folder' / 'IMG' / f'{i}{Path(path).suffix}')
        (root / 'folder' / 'label' / f'{i}.txt').write_text(label, encoding='utf-8')


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG whose header says ``width`` x ``height`` (pixel rows left out: never decoded)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\0')) + chunk(b'IEND', b'')
