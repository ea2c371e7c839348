"""Reading text-recognition LMDBs and decoding their images (writing: ``tools/dataset_converters/lmdb_convert.py``).

The LMDB layout is the one of clovaai / PARSeq / FudanVI / mmocr ``RecogLMDBDataset`` and Union14M-U:
``num-samples`` (ASCII integer), ``image-%09d`` (encoded JPEG/PNG bytes, 1-based) and, for labeled
LMDBs, ``label-%09d`` (UTF-8 text).
"""
import json
import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import lmdb
import numpy as np
from tqdm import tqdm

from .image_io import ImageDecodeError, read_image

PathLike = Union[str, os.PathLike]
#: One sample: encoded image bytes and its label (``None`` for unlabeled LMDBs).
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


#: One sample on disk: image file path and its label (``None`` for unlabeled data).
FileSample = Tuple[str, Optional[str]]


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
