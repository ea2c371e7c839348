"""Where word images come from (for the datasets, dictionary tools, converter and encoder analyses): the data sources
of :data:`SOURCES` (``lmdb``, ``folder``, ``json``, ``txt``), opened by :func:`open_source`, and the LMDB writer."""
import json
import os
import os.path as osp
import re
from itertools import zip_longest
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import lmdb
from mmengine.fileio import LocalBackend, register_backend
from mmengine.registry import Registry
from tqdm import tqdm

PathLike = Union[str, os.PathLike]
#: One sample: encoded image bytes and its label (``None`` when unlabeled).
Sample = Tuple[bytes, Optional[str]]
#: One sample on disk: image file path and its label (``None`` when unlabeled).
FileSample = Tuple[str, Optional[str]]
#: Source classes by format name.
SOURCES = Registry('data source')
#: File extensions taken as images in a plain folder.
IMAGE_EXTENSIONS = frozenset({'.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp'})


class DatasetFormatError(ValueError):
    """A dataset file or entry is malformed; the message names the path and key."""


def lmdb_key(kind: str, index: int) -> str:
    """LMDB key of the ``kind`` (``'image'`` or ``'label'``) of the sample with 1-based ``index``."""
    return f'{kind}-{index:09d}'


def is_lmdb(path: PathLike) -> bool:
    """Whether ``path`` is an LMDB directory (it holds ``data.mdb``)."""
    return osp.isfile(osp.join(path, 'data.mdb'))


class DataSource:
    """A sized collection of samples indexed from 0: encoded image bytes, a label (labeled sources), names."""

    root: str  #: The path it was opened from.
    labeled: bool  #: Whether its samples carry labels.

    def __len__(self) -> int:
        raise NotImplementedError

    def img_path(self, index: int) -> str:
        """Name of image ``index`` for logs and ``img_path`` (a file path or ``<root>/<key>``)."""
        raise NotImplementedError

    def image(self, index: int) -> Optional[bytes]:
        """Encoded bytes of image ``index`` (``None`` if absent)."""
        raise NotImplementedError

    def label(self, index: int) -> str:
        """Label of sample ``index`` (:class:`DatasetFormatError` if there is none)."""
        raise NotImplementedError

    def label_path(self, index: int) -> str:
        """Where the label of sample ``index`` is stored, for messages."""
        return self.img_path(index)

    def close(self) -> None:
        """Release what reading opened (nothing by default)."""

    def samples(self, labels: bool = True, progress: bool = False) -> Iterator[Sample]:
        """``(image bytes, label or None)`` of every sample in index order, then :meth:`close` (an absent image:
        :class:`DatasetFormatError`); labels only if ``labels`` (of a labeled source), a tqdm bar if ``progress``."""
        try:
            for index in tqdm(range(len(self)), desc=f'read {self.root}', disable=not progress):
                img = self.image(index)
                if img is None:
                    raise DatasetFormatError(f'{self.img_path(index)}: absent (the source holds {len(self)})')
                yield img, self.label(index) if labels and self.labeled else None
        finally:
            self.close()


def guess_format(path: PathLike) -> str:
    """``lmdb`` (a folder with ``data.mdb``), ``folder`` (another folder), ``json`` or ``txt`` (by suffix);
    ``FileNotFoundError`` if ``path`` does not exist, :class:`DatasetFormatError` for a file of another suffix."""
    if not osp.exists(path):
        raise FileNotFoundError(f'no such dataset: {path}')
    if osp.isdir(path):
        return 'lmdb' if is_lmdb(path) else 'folder'
    if Path(path).suffix in ('.json', '.txt'):
        return Path(path).suffix[1:]
    raise DatasetFormatError(f'{path}: not an LMDB, a folder, an MMOCR .json or a path<TAB>label .txt; give its '
                             f'format (one of {", ".join(SOURCES.module_dict)})')


def open_source(path: PathLike, fmt: str = 'auto', img_root: Optional[PathLike] = None) -> DataSource:
    """Open a dataset on disk.

    Args:
        path: An LMDB, a folder, an MMOCR 1.x JSON file or a ``path<TAB>label`` text file.
        fmt: A format of :data:`SOURCES`, or ``'auto'`` (:func:`guess_format`).
        img_root: Folder that the relative image paths of a ``json`` or ``txt`` file start from (default: its folder).
    """
    fmt = guess_format(path) if fmt == 'auto' else fmt
    if fmt not in SOURCES.module_dict:
        raise ValueError(f'unknown source format {fmt!r}; expected auto or one of {", ".join(SOURCES.module_dict)}')
    if img_root is not None and fmt not in ('json', 'txt'):
        raise ValueError(f'img_root applies to json and txt sources, not to {fmt} ({path})')
    args = () if img_root is None else (img_root, )
    return SOURCES.get(fmt)(os.fspath(path), *args)


# ------------------------------------------------------------------------------------------------ LMDB
#: The readonly environments of this process by real path (LMDB wants one per file and process), shared by all
#: sources of a path; a forked child closes those it inherits (readonly and lock-free: that only unmaps them).
_ENVS: Dict[str, lmdb.Environment] = {}


def _close_inherited_envs() -> None:
    for env in _ENVS.values():
        env.close()
    _ENVS.clear()


os.register_at_fork(after_in_child=_close_inherited_envs)


@SOURCES.register_module('lmdb')
class LMDBSource(DataSource):
    """A text-recognition LMDB directory ``root`` (clovaai / PARSeq / FudanVI / mmocr / Union14M): ``num-samples``,
    ``image-%09d`` (1-based; index ``i`` is ``image-{i+1:09d}``) and, when labeled, ``label-%09d`` (UTF-8); not an
    LMDB or no valid ``num-samples``: ``FileNotFoundError`` / :class:`DatasetFormatError`.

    The constructor reads ``num-samples`` and whether sample 1 is labeled, leaving nothing open for data loader
    workers to inherit; each process opens the LMDB on its first read (readonly, no lock, readahead or meminit)."""

    def __init__(self, root: str) -> None:
        self.root, self._key = root, osp.realpath(root)
        opened_here = not self.is_open
        try:
            raw = self.get('num-samples')
            if raw is None or not raw.isdigit():
                raise DatasetFormatError(f'{root}: num-samples is {raw!r}; not a text-recognition LMDB')
            self.num_samples = int(raw)
            self.labeled = self.num_samples > 0 and self.get(lmdb_key('label', 1)) is not None
        finally:
            if opened_here:
                self.close()

    def __len__(self) -> int:
        return self.num_samples

    @property
    def env(self) -> lmdb.Environment:
        """The environment of the current process, opened on first use."""
        if self._key not in _ENVS:
            if not osp.exists(self.root):
                raise FileNotFoundError(f'LMDB not found: {self.root}')
            if not is_lmdb(self.root):
                raise DatasetFormatError(f'{self.root} is not an LMDB directory (no data.mdb)')
            try:
                _ENVS[self._key] = lmdb.open(self.root, readonly=True, lock=False, readahead=False, meminit=False)
            except lmdb.Error as e:
                raise DatasetFormatError(f'{self.root}: cannot open as an LMDB ({type(e).__name__}: {e})') from e
        return _ENVS[self._key]

    @property
    def is_open(self) -> bool:
        """Whether this process has the LMDB open."""
        return self._key in _ENVS

    def close(self) -> None:
        """Close this process's environment of the LMDB (for every source of it; reopened on the next read)."""
        env = _ENVS.pop(self._key, None)
        if env is not None:
            env.close()

    def get(self, key: str) -> Optional[bytes]:
        """Value of ``key`` (``None`` if absent)."""
        try:
            with self.env.begin(write=False, buffers=False) as txn:
                return txn.get(key.encode())
        except lmdb.Error as e:
            raise DatasetFormatError(f'{self.root}: corrupt LMDB, cannot read {key!r} ({type(e).__name__}: {e})') from e

    def _get(self, kind: str, index: int) -> Optional[bytes]:
        """Value of the ``kind`` key of sample ``index`` (0-based, range-checked)."""
        if not 0 <= index < self.num_samples:
            raise IndexError(f'{self.root}: sample {index} is outside 0..{self.num_samples - 1}')
        return self.get(lmdb_key(kind, index + 1))

    def img_path(self, index: int) -> str:
        return f'{self.root}/{lmdb_key("image", index + 1)}'

    def image(self, index: int) -> Optional[bytes]:
        return self._get('image', index)

    def label(self, index: int) -> str:
        raw, key = self._get('label', index), lmdb_key('label', index + 1)
        if raw is None:
            raise DatasetFormatError(f'{self.root}: no {key!r}; is this LMDB labeled?')
        try:
            return raw.decode('utf-8')
        except UnicodeDecodeError as e:
            raise DatasetFormatError(f'{self.root}: {key!r} is not UTF-8: {raw[:64]!r}') from e

    def label_path(self, index: int) -> str:
        return f'{self.root}/{lmdb_key("label", index + 1)}'


@register_backend('lmim_lmdb')
class LMDBImageBackend(LocalBackend):
    """mmengine file backend: local files, and ``<lmdb root>/image-%09d`` (the ``img_path`` of an :class:`LMDBSource`
    sample) read from the LMDB; e.g. mmocr's ``VisualizationHook`` with ``backend_args=dict(backend='lmim_lmdb')``."""

    def get(self, filepath: Union[str, Path]) -> bytes:
        """Bytes of a local file or of an LMDB image (:class:`DatasetFormatError` if the LMDB lacks it)."""
        root, key = osp.split(str(filepath))
        if not (re.fullmatch(r'image-\d{9}', key) and is_lmdb(root)):
            return super().get(filepath)
        img = LMDBSource(root).get(key)
        if img is None:
            raise DatasetFormatError(f'{root}: no {key!r}')
        return img


# ------------------------------------------------------------------------------------------------ files
class FileListSource(DataSource):
    """Image files and their labels, listed up front: ``files`` holds ``(image path, label or None)`` per sample, all
    labeled or all unlabeled; ``root`` is what the list was read from (for messages)."""

    def __init__(self, root: str, files: Sequence[FileSample]) -> None:
        self.root, self.files = root, list(files)
        self.labeled = bool(self.files) and self.files[0][1] is not None
        mixed = next((path for path, label in self.files if (label is not None) != self.labeled), None)
        if mixed is not None:
            raise DatasetFormatError(f'{root}: {mixed} is {"un" if self.labeled else ""}labeled unlike '
                                     f'{self.files[0][0]}; a dataset is labeled or not')

    def __len__(self) -> int:
        return len(self.files)

    def img_path(self, index: int) -> str:
        return self.files[index][0]

    def image(self, index: int) -> Optional[bytes]:
        return Path(self.files[index][0]).read_bytes()

    def label(self, index: int) -> str:
        if not self.labeled:
            raise DatasetFormatError(f'{self.root}: unlabeled, no label for {self.files[index][0]}')
        return self.files[index][1]


def read_label_file(path: Path) -> str:
    """The label in a one-line UTF-8 file, only the line terminator removed (spaces are kept); a file that is not
    UTF-8, is empty or holds more than one line raises :class:`DatasetFormatError`."""
    try:
        text = path.read_bytes().decode('utf-8')
    except UnicodeDecodeError as e:
        raise DatasetFormatError(f'{path}: label file is not UTF-8') from e
    text = text.removesuffix('\n').removesuffix('\r')
    if '\n' in text or '\r' in text:
        raise DatasetFormatError(f'{path}: label file holds more than one line: {text!r}')
    if not text:
        raise DatasetFormatError(f'{path}: empty label file (every image needs its text)')
    return text


def _numbered_files(directory: Path) -> List[Tuple[int, Path]]:
    """``(id, path)`` of the ``<id>.<ext>`` files of ``directory`` (hidden ones ignored) by id; names checked."""
    numbered: Dict[int, Path] = {}
    for path in (p for p in directory.iterdir() if not p.name.startswith('.')):
        if not path.stem.isdigit() or not path.suffix:
            raise DatasetFormatError(f'{path}: expected files named <integer>.<ext> in {directory}')
        if int(path.stem) in numbered:
            raise DatasetFormatError(f'{path}: id {int(path.stem)} also used by {numbered[int(path.stem)]}')
        numbered[int(path.stem)] = path
    return sorted(numbered.items())


def list_folder_samples(root: PathLike, labeled: bool = True) -> List[FileSample]:
    """``(image path, label or None)`` of each sample of a folder dataset (errors name the missing folder or the
    offending file: ``FileNotFoundError`` / :class:`DatasetFormatError`). Labeled: ``root/IMG/<i>.<ext>`` with
    ``root/label/<i>.txt``, by the numeric id ``i``. Unlabeled: the image files (by extension) of ``root/IMG`` if it
    exists, else of ``root``, numeric names in numeric order first, then the others by name."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f'dataset folder not found: {root}')
    img_dir = root / 'IMG'
    if not labeled:
        img_dir = img_dir if img_dir.is_dir() else root
        files = sorted((p for p in img_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS),
                       key=lambda p: (0, int(p.stem), '') if p.stem.isdigit() else (1, 0, p.name))
        if not files:
            raise FileNotFoundError(f'{img_dir}: no image files ({", ".join(sorted(IMAGE_EXTENSIONS))})')
        return [(str(p), None) for p in files]
    for directory in (img_dir, root / 'label'):
        if not directory.is_dir():
            raise FileNotFoundError(f'{root}: no {directory.name}/ folder (layout IMG/<i>.<ext> + label/<i>.txt)')
    images, labels = _numbered_files(img_dir), dict(_numbered_files(root / 'label'))
    unlabeled = [str(p) for i, p in images if i not in labels]
    orphans = sorted(set(labels) - {i for i, _ in images})
    if unlabeled or orphans:
        raise DatasetFormatError(f'{root}: images without label file: {unlabeled[:5]}; label files without '
                                 f'image: {[str(labels[i]) for i in orphans[:5]]} ({len(unlabeled)} and '
                                 f'{len(orphans)} in all)')
    return [(str(p), read_label_file(labels[i])) for i, p in images]


@SOURCES.register_module('folder')
class FolderSource(FileListSource):
    """A folder dataset (:func:`list_folder_samples`); ``labeled=None``: labeled if it has a ``label/`` folder."""

    def __init__(self, root: str, labeled: Optional[bool] = None) -> None:
        labeled = osp.isdir(osp.join(root, 'label')) if labeled is None else labeled
        super().__init__(root, list_folder_samples(root, labeled))

    def label_path(self, index: int) -> str:
        return str(Path(self.root) / 'label' / f'{Path(self.files[index][0]).stem}.txt')


@SOURCES.register_module('json')
class MMOCRJSONSource(FileListSource):
    """An MMOCR 1.x text-recognition annotation file ``root``: ``{"metainfo": ..., "data_list": [{"img_path": ...,
    "instances": [{"text": ...}]}]}``; entries with ``"instances": []`` are unlabeled. ``img_root``: as in
    :func:`open_source`. An entry that does not follow the format raises :class:`DatasetFormatError` naming it."""

    def __init__(self, root: str, img_root: Optional[PathLike] = None) -> None:
        folder = Path(img_root or Path(root).parent)
        with open(root, encoding='utf-8') as f:
            try:
                data_list = json.load(f)['data_list']
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise DatasetFormatError(f'{root}: not an MMOCR 1.x annotation file ({e!r})') from e
        files = []
        for i, entry in enumerate(data_list):
            try:
                instances = entry.get('instances', [])
                if len(instances) > 1:
                    raise ValueError(f'{len(instances)} instances; recognition needs one')
                label = instances[0]['text'] if instances else None
                if label is not None and not isinstance(label, str):
                    raise TypeError(f'text {label!r} is not a string')
                files.append((str(folder / entry['img_path']), label))
            except (AttributeError, KeyError, TypeError, ValueError) as e:
                raise DatasetFormatError(f'{root}: data_list[{i}] is malformed ({e!r}): {entry!r}') from e
        super().__init__(root, files)


@SOURCES.register_module('txt')
class TextLinesSource(FileListSource):
    """A UTF-8 ground-truth text file ``root`` of ``image_path<TAB>label`` or ``image_path label`` lines: a line
    with a tab splits at its first tab (labels may hold spaces), one without at its first space; labels are kept
    as they are, empty lines skipped. ``img_root``: as in :func:`open_source`. Bad lines (no separator, an empty
    path or label, an image file that does not exist, not UTF-8) raise :class:`DatasetFormatError` naming them all."""

    def __init__(self, root: str, img_root: Optional[PathLike] = None) -> None:
        folder = Path(img_root or Path(root).parent)
        files, bad = [], []
        with open(root, 'rb') as f:
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
                elif not (folder / rel_path).is_file():
                    bad.append(f'line {number}: image not found: {folder / rel_path}')
                else:
                    files.append((str(folder / rel_path), label))
        if bad:
            shown = '\n  '.join(bad[:20]) + (f'\n  ... and {len(bad) - 20} more' if len(bad) > 20 else '')
            raise DatasetFormatError(f'{root}: {len(bad)} bad line(s):\n  {shown}')
        super().__init__(root, files)


# ------------------------------------------------------------------------------------------------ writing
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
    """Write samples into a new LMDB, image bytes unchanged, ``num-samples`` last (an interrupted run leaves an
    LMDB that does not open as a dataset). Returns the number of samples written.

    Args:
        samples: ``(image_bytes, label or None)`` in index order, all labeled or all unlabeled (else, as for empty
            image bytes, :class:`DatasetFormatError`).
        path: Output directory; must not hold an LMDB already (FileExistsError).
        total: Number of samples, for the progress bar (``progress``).
        commit_every: Samples per write transaction.
        map_size: Initial map size in bytes (doubled whenever it is full).
    """
    path = Path(path)
    if is_lmdb(path):
        raise FileExistsError(f'{path} already holds an LMDB; remove it first')
    path.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(path), map_size=map_size, readahead=False, meminit=False)
    batch: List[Tuple[bytes, bytes]] = []
    count, labeled = 0, None
    try:
        for count, (img, label) in enumerate(tqdm(samples, total=total, desc=f'write {path}',
                                                  disable=not progress), start=1):
            if not img:
                raise DatasetFormatError(f'{path}: sample {count} has no image bytes')
            labeled = (label is not None) if labeled is None else labeled
            if labeled != (label is not None):
                raise DatasetFormatError(f'{path}: sample {count} is {"un" if labeled else ""}labeled unlike '
                                         f'sample 1; an LMDB is either labeled or not')
            batch.append((lmdb_key('image', count).encode(), img))
            if labeled:
                batch.append((lmdb_key('label', count).encode(), label.encode('utf-8')))
            if len(batch) >= commit_every * (2 if labeled else 1):
                _put_batch(env, batch)
                batch = []
        _put_batch(env, batch + [(b'num-samples', str(count).encode())])
    finally:
        env.close()
    return count


def verify_lmdb(path: PathLike, samples: Iterable[Sample], total: Optional[int] = None, progress: bool = True) -> int:
    """Read an LMDB back and compare it with ``samples``, the ``(image_bytes, label or None)`` it was written from
    in index order (read again from the source, not from memory, for a true check); ``total`` and ``progress`` as
    in :func:`write_lmdb`. Returns the number checked; :class:`DatasetFormatError` names the first key whose bytes
    or label differ, or a count mismatch."""
    written = LMDBSource(os.fspath(path))
    count = 0
    for count, (stored, expected) in enumerate(tqdm(zip_longest(written.samples(), samples), total=total,
                                                    desc=f'verify {path}', disable=not progress), start=1):
        if stored is None or expected is None:
            raise DatasetFormatError(f'{path}: holds {len(written)} samples, the source has '
                                     f'{"more" if stored is None else count - 1}')
        if stored[0] != expected[0]:
            raise DatasetFormatError(f'{path}: {lmdb_key("image", count)!r} differs from the source image')
        if stored[1] != expected[1]:
            raise DatasetFormatError(f'{path}: {lmdb_key("label", count)!r} is {stored[1]!r}, the source says '
                                     f'{expected[1]!r}')
    return count


def source_to_lmdb(source: DataSource, path: PathLike, labels: bool = True, verify: bool = False,
                   progress: bool = True) -> int:
    """Write a source into a new LMDB (image bytes unchanged); ``verify`` reads it back and compares every
    image (re-read from the source) and label. ``labels=False`` writes an unlabeled LMDB. Returns the count."""
    count = write_lmdb(source.samples(labels), path, total=len(source), progress=progress)
    if verify:
        verify_lmdb(path, source.samples(labels), total=len(source), progress=progress)
    return count


def files_to_lmdb(items: Sequence[FileSample], path: PathLike, verify: bool = False, progress: bool = True) -> int:
    """:func:`source_to_lmdb` of image files: ``(image path, label or None)`` items in index order."""
    return source_to_lmdb(FileListSource(os.fspath(path), items), path, verify=verify, progress=progress)


#: Leading bytes of the image formats an LMDB may hold, and the file extension for each.
_MAGIC = ((b'\xff\xd8\xff', 'jpg'), (b'\x89PNG\r\n\x1a\n', 'png'), (b'GIF8', 'gif'), (b'BM', 'bmp'),
          (b'II*\x00', 'tif'), (b'MM\x00*', 'tif'))


def image_extension(img_bytes: bytes) -> Optional[str]:
    """File extension (``'jpg'``, ``'png'``, ...) of encoded image bytes, ``None`` if unknown."""
    if img_bytes[:4] == b'RIFF' and img_bytes[8:12] == b'WEBP':
        return 'webp'
    return next((ext for magic, ext in _MAGIC if img_bytes.startswith(magic)), None)


def write_mmocr_json(source: DataSource, out_dir: PathLike, json_name: str = 'labels.json',
                     progress: bool = True) -> Path:
    """Write the images of a source as ``out_dir/imgs/<index>.<ext>`` (bytes unchanged, the extension from
    their format, ``.bin`` if unknown) and an MMOCR 1.x JSON ``out_dir/json_name`` listing them (``img_path``
    relative to ``out_dir``; unlabeled samples get ``"instances": []``). Returns the JSON's path."""
    out_dir = Path(out_dir)
    (out_dir / 'imgs').mkdir(parents=True, exist_ok=True)
    data_list = []
    for index, (img, label) in enumerate(source.samples(progress=progress), start=1):
        rel_path = f'imgs/{index:09d}.{image_extension(img) or "bin"}'
        (out_dir / rel_path).write_bytes(img)
        data_list.append(dict(img_path=rel_path, instances=[] if label is None else [dict(text=label)]))
    metainfo = dict(dataset_type='TextRecogDataset', task_name='textrecog')
    with open(out_dir / json_name, 'w', encoding='utf-8') as f:
        json.dump(dict(metainfo=metainfo, data_list=data_list), f, ensure_ascii=False, indent=1)
    return out_dir / json_name
