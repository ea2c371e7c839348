"""Reading, writing and checking text-recognition LMDBs and decoding their images.

The LMDB layout is the one of clovaai / PARSeq / FudanVI / mmocr ``RecogLMDBDataset`` and Union14M-U:
``num-samples`` (ASCII integer), ``image-%09d`` (encoded JPEG/PNG bytes, 1-based) and, for labeled
LMDBs, ``label-%09d`` (UTF-8 text).
"""
import json
import os
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import lmdb
import numpy as np
from tqdm import tqdm

from .image_io import ImageDecodeError, read_image

PathLike = Union[str, os.PathLike]
#: One sample to write: encoded image bytes and its label (``None`` for unlabeled LMDBs).
Sample = Tuple[bytes, Optional[str]]

NUM_SAMPLES_KEY = 'num-samples'
IMAGE_KEY = 'image-%09d'
LABEL_KEY = 'label-%09d'


class DatasetFormatError(ValueError):
    """A dataset file or entry is malformed; the message names the path and key."""


def image_key(index: int) -> str:
    """LMDB key of the image with 1-based ``index``."""
    return IMAGE_KEY % index


def label_key(index: int) -> str:
    """LMDB key of the label with 1-based ``index``."""
    return LABEL_KEY % index


def decode_image(img_bytes: Optional[bytes], color_type: str = 'color',
                 backend: str = 'cv2') -> Optional[np.ndarray]:
    """:func:`~.image_io.read_image` (same rules), with ``None`` instead of an error for tools that only
    need to know whether the bytes are a usable image.

    Args:
        img_bytes: Encoded JPEG/PNG/... bytes.
        color_type: ``flag`` of :func:`mmcv.imfrombytes` (``'color'`` gives 3 channels).
        backend: Decoding backend of :func:`mmcv.imfrombytes` (``'cv2'``, ``'pillow'``, ...).

    Returns:
        The image, ``(H, W, 3)`` uint8 BGR for ``'color'``, or ``None`` if :func:`read_image` refuses it.
    """
    try:
        return read_image(img_bytes, 'image', color_type, backend)
    except ImageDecodeError:
        return None


def _check_lmdb_dir(path: PathLike) -> Path:
    """Raise a clear error unless ``path`` is an existing LMDB directory."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f'LMDB not found: {path}')
    if not path.is_dir() or not (path / 'data.mdb').is_file():
        raise DatasetFormatError(f'{path} is not an LMDB directory (no {path / "data.mdb"})')
    return path


def open_lmdb_readonly(path: PathLike) -> lmdb.Environment:
    """Open an LMDB for reading as data loaders should: readonly, no lock, no readahead.

    Args:
        path: LMDB directory.

    Returns:
        The open environment.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DatasetFormatError: ``path`` is not a readable LMDB.
    """
    path = _check_lmdb_dir(path)
    try:
        return lmdb.open(str(path), readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as e:
        raise DatasetFormatError(f'{path}: cannot open as an LMDB ({type(e).__name__}: {e})') from e


def read_num_samples(env: lmdb.Environment, path: PathLike) -> int:
    """Read and check the ``num-samples`` entry of an open LMDB.

    Args:
        env: Open environment.
        path: Its path, for error messages.

    Returns:
        The number of samples.

    Raises:
        DatasetFormatError: the key is missing or not a non-negative integer, or the LMDB is corrupt.
    """
    try:
        with env.begin(write=False) as txn:
            raw = txn.get(NUM_SAMPLES_KEY.encode())
    except lmdb.Error as e:
        raise DatasetFormatError(f'{path}: corrupt LMDB, cannot read {NUM_SAMPLES_KEY!r} '
                                 f'({type(e).__name__}: {e})') from e
    if raw is None:
        raise DatasetFormatError(f'{path}: no {NUM_SAMPLES_KEY!r} key; not a text-recognition LMDB')
    try:
        num = int(raw.decode('ascii'))
    except (UnicodeDecodeError, ValueError):
        num = -1
    if num < 0:
        raise DatasetFormatError(f'{path}: {NUM_SAMPLES_KEY!r} is {raw[:32]!r}, not a count')
    return num


#: Readonly environments open in this process, by real path (see :func:`_process_envs`).
_ENVS: Dict[str, lmdb.Environment] = {}
_ENVS_PID = os.getpid()


def _process_envs() -> Dict[str, lmdb.Environment]:
    """The readonly environments of this process, shared by all readers of a path.

    One environment per LMDB and process is what LMDB requires (py-lmdb >= 3 refuses to open the same
    files twice in a process). After a fork, the environments inherited from the parent are closed
    in the child (readonly and lock-free, so this only unmaps the child's copy) and reopened on use.
    """
    global _ENVS_PID
    if _ENVS_PID != os.getpid():
        for env in _ENVS.values():
            env.close()
        _ENVS.clear()
        _ENVS_PID = os.getpid()
    return _ENVS


class LMDBReader:
    """Lazy, fork-safe reader of one text-recognition LMDB.

    The constructor only reads ``num-samples`` (with a short-lived environment unless the LMDB is
    open in this process already), so nothing is open when a data loader forks or pickles its
    workers. Each process opens one environment per LMDB on its first read (a change of process id
    is detected), readonly and without lock, readahead or meminit, shared by all readers of the path.

    Args:
        path: LMDB directory.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = str(path)
        self._key = os.path.realpath(path)
        env = _process_envs().get(self._key)
        if env is not None:
            self.num_samples = read_num_samples(env, path)
        else:
            env = open_lmdb_readonly(path)
            try:
                self.num_samples = read_num_samples(env, path)
            finally:
                env.close()

    def __len__(self) -> int:
        return self.num_samples

    @property
    def env(self) -> lmdb.Environment:
        """The environment of the current process, opened on first use."""
        envs = _process_envs()
        if self._key not in envs:
            envs[self._key] = open_lmdb_readonly(self.path)
        return envs[self._key]

    @property
    def is_open(self) -> bool:
        """Whether this process has the LMDB open."""
        return self._key in _process_envs()

    def close(self) -> None:
        """Close this process's environment of the LMDB (for every reader; reopened on the next read)."""
        env = _process_envs().pop(self._key, None)
        if env is not None:
            env.close()

    def get(self, key: str) -> Optional[bytes]:
        """Value of ``key`` (``None`` if absent)."""
        try:
            with self.env.begin(write=False, buffers=False) as txn:
                return txn.get(key.encode())
        except lmdb.Error as e:
            raise DatasetFormatError(f'{self.path}: corrupt LMDB, cannot read {key!r} '
                                     f'({type(e).__name__}: {e})') from e

    def _check_index(self, index: int) -> None:
        if not 1 <= index <= self.num_samples:
            raise IndexError(f'{self.path}: sample {index} is outside 1..{self.num_samples}')

    def image(self, index: int) -> Optional[bytes]:
        """Encoded bytes of image ``index`` (1-based); ``None`` if the key is absent."""
        self._check_index(index)
        return self.get(image_key(index))

    def label(self, index: int) -> str:
        """Label ``index`` (1-based).

        Raises:
            DatasetFormatError: the key is absent or not UTF-8.
        """
        self._check_index(index)
        raw = self.get(label_key(index))
        if raw is None:
            raise DatasetFormatError(f'{self.path}: no {label_key(index)!r}; is this LMDB labeled?')
        try:
            return raw.decode('utf-8')
        except UnicodeDecodeError as e:
            raise DatasetFormatError(f'{self.path}: {label_key(index)!r} is not UTF-8: {raw[:64]!r}') from e

    def has_labels(self) -> bool:
        """Whether the first sample has a label (an empty LMDB counts as unlabeled)."""
        return self.num_samples > 0 and self.get(label_key(1)) is not None


def iter_lmdb(path: PathLike, progress: bool = False) -> Iterator[Sample]:
    """Yield ``(image_bytes, label or None)`` of every sample in index order.

    Args:
        path: LMDB directory.
        progress: Show a tqdm progress bar.

    Raises:
        DatasetFormatError: an image key is absent.
    """
    reader = LMDBReader(path)
    labeled = reader.has_labels()
    try:
        for index in tqdm(range(1, len(reader) + 1), desc=f'read {path}', disable=not progress):
            img = reader.image(index)
            if img is None:
                raise DatasetFormatError(f'{path}: no {image_key(index)!r} (num-samples {len(reader)})')
            yield img, reader.label(index) if labeled else None
    finally:
        reader.close()


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


#: One sample on disk: image file path and its label (``None`` for unlabeled data).
FileSample = Tuple[str, Optional[str]]

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


def load_mmocr_json(ann_file: PathLike, img_root: Optional[PathLike] = None) -> List[FileSample]:
    """Read an MMOCR 1.x text-recognition annotation file.

    Format: ``{"metainfo": ..., "data_list": [{"img_path": ..., "instances": [{"text": ...}]}]}``;
    an entry with ``"instances": []`` is unlabeled.

    Args:
        ann_file: The JSON file.
        img_root: Directory that relative ``img_path`` values start from (default: the JSON's folder).

    Returns:
        ``(image path, label or None)`` for every entry, in file order.

    Raises:
        DatasetFormatError: naming the file and entry that do not follow the format.
    """
    ann_file = Path(ann_file)
    root = Path(img_root) if img_root is not None else ann_file.parent
    with open(ann_file, encoding='utf-8') as f:
        try:
            data_list = json.load(f)['data_list']
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise DatasetFormatError(f'{ann_file}: not an MMOCR 1.x annotation file ({e!r})') from e
    samples = []
    for i, entry in enumerate(data_list):
        try:
            instances = entry.get('instances', [])
            if len(instances) > 1:
                raise ValueError(f'{len(instances)} instances; recognition needs one')
            label = instances[0]['text'] if instances else None
            if label is not None and not isinstance(label, str):
                raise TypeError(f'text {label!r} is not a string')
            samples.append((str(root / entry['img_path']), label))
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise DatasetFormatError(f'{ann_file}: data_list[{i}] is malformed ({e!r}): {entry!r}') from e
    return samples


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
