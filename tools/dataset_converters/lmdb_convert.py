"""Writing, verifying and exporting text-recognition LMDBs (the converters of this folder, demos, tests).

The layout is the one :mod:`lmim_mm.datasets.lmdb_utils` reads: ``num-samples`` (ASCII integer),
``image-%09d`` (encoded image bytes, 1-based) and, for labeled LMDBs, ``label-%09d`` (UTF-8 text).
"""
import json
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import lmdb
from tqdm import tqdm

from lmim_mm.datasets.lmdb_utils import (NUM_SAMPLES_KEY, DatasetFormatError, FileSample, LMDBReader, PathLike,
                                         Sample, image_key, iter_lmdb, label_key)


def _put_batch(env: lmdb.Environment, batch: List[Tuple[bytes, bytes]]) -> None:
    """Write ``batch`` in one transaction, doubling the map size until it fits."""
    while True:
        try:
            with env.begin(write=True) as txn:
                for key, value in batch:
                    txn.put(key, value)
            return
        except lmdb.MapFullError:
            env.set_mapsize(env.info()['map_size'] * 2)


def write_lmdb(samples: Iterable[Sample], path: PathLike, total: Optional[int] = None,
               commit_every: int = 1000, map_size: int = 1 << 26, progress: bool = True) -> int:
    """Write samples into a new LMDB, image bytes unchanged.

    All samples must agree on being labeled (``str``) or unlabeled (``None``). The map grows as
    needed. ``num-samples`` is written last, so an interrupted run leaves an LMDB that does not open
    as a dataset.

    Args:
        samples: ``(image_bytes, label or None)`` in index order.
        path: Output directory; must not hold an LMDB already.
        total: Number of samples, for the progress bar.
        commit_every: Samples per write transaction.
        map_size: Initial map size in bytes (doubled whenever it is full).
        progress: Show a tqdm progress bar.

    Returns:
        The number of samples written.

    Raises:
        FileExistsError: ``path`` already holds an LMDB.
        DatasetFormatError: a sample has empty image bytes, or labeled and unlabeled samples are mixed.
    """
    path = Path(path)
    if (path / 'data.mdb').exists():
        raise FileExistsError(f'{path} already holds an LMDB; remove it first')
    path.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(path), map_size=map_size, readahead=False, meminit=False)
    labeled: Optional[bool] = None
    batch: List[Tuple[bytes, bytes]] = []
    count = 0
    try:
        for count, (img, label) in enumerate(tqdm(samples, total=total, desc=f'write {path}',
                                                  disable=not progress), start=1):
            if not img:
                raise DatasetFormatError(f'{path}: sample {count} has no image bytes')
            labeled = (label is not None) if labeled is None else labeled
            if labeled != (label is not None):
                raise DatasetFormatError(f'{path}: sample {count} is {"un" if labeled else ""}labeled '
                                         f'unlike sample 1; an LMDB is either labeled or not')
            batch.append((image_key(count).encode(), img))
            if labeled:
                batch.append((label_key(count).encode(), label.encode('utf-8')))
            if len(batch) >= commit_every * (2 if labeled else 1):
                _put_batch(env, batch)
                batch = []
        _put_batch(env, batch + [(NUM_SAMPLES_KEY.encode(), str(count).encode())])
    finally:
        env.close()
    return count


def verify_lmdb(path: PathLike, samples: Iterable[Sample], total: Optional[int] = None,
                progress: bool = True) -> int:
    """Read an LMDB back and compare it with the samples it was written from.

    Args:
        path: LMDB directory.
        samples: The expected ``(image_bytes, label or None)`` in index order (read again from the
            source, not from memory, for a true check).
        total: Number of samples, for the progress bar.
        progress: Show a tqdm progress bar.

    Returns:
        The number of samples checked.

    Raises:
        DatasetFormatError: naming the first key whose bytes or label differ, or a count mismatch.
    """
    reader = LMDBReader(path)
    count = 0
    try:
        for count, (img, label) in enumerate(tqdm(samples, total=total, desc=f'verify {path}',
                                                  disable=not progress), start=1):
            if count > len(reader):
                raise DatasetFormatError(f'{path}: holds {len(reader)} samples, the source has more')
            if reader.image(count) != img:
                raise DatasetFormatError(f'{path}: {image_key(count)!r} differs from the source image')
            stored = None if label is None else reader.label(count)
            if stored != label:
                raise DatasetFormatError(f'{path}: {label_key(count)!r} is {stored!r}, the source says '
                                         f'{label!r}')
        if count != len(reader):
            raise DatasetFormatError(f'{path}: holds {len(reader)} samples, the source has {count}')
    finally:
        reader.close()
    return count


#: Leading bytes of the image formats an LMDB may hold, and the file extension for each.
_MAGIC = ((b'\xff\xd8\xff', 'jpg'), (b'\x89PNG\r\n\x1a\n', 'png'), (b'GIF8', 'gif'), (b'BM', 'bmp'),
          (b'II*\x00', 'tif'), (b'MM\x00*', 'tif'))


def image_extension(img_bytes: bytes) -> Optional[str]:
    """File extension (``'jpg'``, ``'png'``, ...) of encoded image bytes, ``None`` if unknown."""
    if img_bytes[:4] == b'RIFF' and img_bytes[8:12] == b'WEBP':
        return 'webp'
    return next((ext for magic, ext in _MAGIC if img_bytes.startswith(magic)), None)


def read_file_samples(items: Iterable[FileSample]) -> Iterator[Sample]:
    """Read the image bytes of ``(image path, label)`` items.

    Raises:
        FileNotFoundError: naming the missing image file.
    """
    for img_path, label in items:
        yield Path(img_path).read_bytes(), label


def load_gt_txt(gt_file: PathLike, img_root: Optional[PathLike] = None) -> List[FileSample]:
    """Read a ground-truth text file of ``image_path<TAB>label`` or ``image_path label`` lines.

    The format of clovaai's ``create_lmdb_dataset.py``, PARSeq and Union14M: a line with a tab splits
    at its first tab (labels may hold spaces), one without at its first space. Labels are kept as
    they are (only the line break is removed); empty lines are skipped.

    Args:
        gt_file: The text file (UTF-8).
        img_root: Directory that relative image paths start from (default: the text file's folder).

    Returns:
        ``(image path, label)`` for every line, in file order.

    Raises:
        DatasetFormatError: naming the file and listing every bad line by number (no separator, an
            empty path or label, an image file that does not exist, not UTF-8).
    """
    gt_file = Path(gt_file)
    root = Path(img_root) if img_root is not None else gt_file.parent
    samples, bad = [], []
    with open(gt_file, 'rb') as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode('utf-8').rstrip('\r\n')
            except UnicodeDecodeError:
                bad.append(f'line {number}: not UTF-8: {raw[:80]!r}')
                continue
            if not line:
                continue
            rel_path, sep, label = line.partition('\t' if '\t' in line else ' ')
            if not sep or not rel_path or not label:
                bad.append(f'line {number}: expected "path<TAB>label" or "path label": {line[:80]!r}')
            elif not (root / rel_path).is_file():
                bad.append(f'line {number}: image not found: {root / rel_path}')
            else:
                samples.append((str(root / rel_path), label))
    if bad:
        shown = '\n  '.join(bad[:20]) + (f'\n  ... and {len(bad) - 20} more' if len(bad) > 20 else '')
        raise DatasetFormatError(f'{gt_file}: {len(bad)} bad line(s):\n  {shown}')
    return samples


def export_lmdb(lmdb_path: PathLike, out_dir: PathLike, json_name: str = 'labels.json',
                progress: bool = True) -> Path:
    """Write the images of an LMDB as files plus an MMOCR 1.x JSON that lists them.

    Images go to ``out_dir/imgs/<index>.<ext>`` (bytes unchanged, extension from the bytes' format,
    ``.bin`` for unknown ones), the JSON to ``out_dir/json_name`` with ``img_path`` relative to
    ``out_dir``; unlabeled samples get ``"instances": []``.

    Args:
        lmdb_path: LMDB directory.
        out_dir: Output directory.
        json_name: File name of the annotation file.
        progress: Show a tqdm progress bar.

    Returns:
        Path of the JSON file.
    """
    out_dir = Path(out_dir)
    (out_dir / 'imgs').mkdir(parents=True, exist_ok=True)
    data_list = []
    for index, (img, label) in enumerate(iter_lmdb(lmdb_path, progress=progress), start=1):
        rel_path = f'imgs/{index:09d}.{image_extension(img) or "bin"}'
        (out_dir / rel_path).write_bytes(img)
        data_list.append(dict(img_path=rel_path, instances=[] if label is None else [dict(text=label)]))
    json_path = out_dir / json_name
    metainfo = dict(dataset_type='TextRecogDataset', task_name='textrecog')
    with open(json_path, 'w', encoding='utf-8') as f:
        json.dump(dict(metainfo=metainfo, data_list=data_list), f, ensure_ascii=False, indent=1)
    return json_path


def files_to_lmdb(items: Sequence[FileSample], path: PathLike, verify: bool = False, progress: bool = True) -> int:
    """Write image files (bytes unchanged) and their labels into a new LMDB, optionally verified.

    Args:
        items: ``(image path, label or None)`` in index order.
        path: Output LMDB directory.
        verify: Read the LMDB back and compare every image's bytes (re-read from the files) and label.
        progress: Show tqdm progress bars.

    Returns:
        The number of samples written.
    """
    count = write_lmdb(read_file_samples(items), path, total=len(items), progress=progress)
    if verify:
        verify_lmdb(path, read_file_samples(items), total=len(items), progress=progress)
    return count
