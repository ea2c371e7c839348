"""Word images stored as files: the ``IMG/<i>.<ext>`` + ``label/<i>.txt`` layout and plain folders."""
from pathlib import Path
from typing import List, Optional, Tuple

from mmocr.registry import DATASETS

from .lazy_dataset import LazyRecogDataset
from .lmdb_utils import DatasetFormatError, FileSample, PathLike

#: File extensions taken as images in a plain (unlabeled) folder.
IMAGE_EXTENSIONS = frozenset({'.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp'})


def read_label_file(path: Path) -> str:
    """The label in a one-line UTF-8 file; only the line terminator is removed (spaces are kept).

    Raises:
        DatasetFormatError: the file is not UTF-8, is empty or holds more than one line.
    """
    try:
        text = path.read_bytes().decode('utf-8')
    except UnicodeDecodeError as e:
        raise DatasetFormatError(f'{path}: label file is not UTF-8') from e
    text = text[:-1] if text.endswith('\n') else text
    text = text[:-1] if text.endswith('\r') else text
    if '\n' in text or '\r' in text:
        raise DatasetFormatError(f'{path}: label file holds more than one line: {text!r}')
    if not text:
        raise DatasetFormatError(f'{path}: empty label file (every image needs its text)')
    return text


def _numbered_files(directory: Path) -> List[Tuple[int, Path]]:
    """``(id, path)`` of the ``<id>.<ext>`` files of ``directory`` (hidden files ignored), by id.

    Raises:
        DatasetFormatError: a name is not ``<integer>.<ext>`` or an id occurs twice.
    """
    numbered = {}
    for path in directory.iterdir():
        if path.name.startswith('.'):
            continue
        if not path.stem.isdigit() or not path.suffix:
            raise DatasetFormatError(f'{path}: expected files named <integer>.<ext> in {directory}')
        if int(path.stem) in numbered:
            raise DatasetFormatError(f'{path}: id {int(path.stem)} also used by {numbered[int(path.stem)]}')
        numbered[int(path.stem)] = path
    return sorted(numbered.items())


def _natural_key(path: Path) -> tuple:
    return (0, int(path.stem), '') if path.stem.isdigit() else (1, 0, path.name)


def list_folder_samples(root: PathLike, labeled: bool = True) -> List[FileSample]:
    """List the samples of a folder dataset.

    Labeled layout: ``root/IMG/<i>.<ext>`` with ``root/label/<i>.txt``, ordered by the numeric id
    ``i``. Unlabeled (``labeled=False``): the image files (by extension) of ``root/IMG`` if it
    exists, else of ``root``, numeric names in numeric order first, then the others by name.

    Args:
        root: Dataset folder.
        labeled: Whether labels are read.

    Returns:
        ``(image path, label or None)`` per sample.

    Raises:
        FileNotFoundError / DatasetFormatError: naming the missing folder or offending file.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f'dataset folder not found: {root}')
    img_dir = root / 'IMG'
    if not labeled:
        img_dir = img_dir if img_dir.is_dir() else root
        files = sorted((p for p in img_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS),
                       key=_natural_key)
        return [(str(p), None) for p in files]
    label_dir = root / 'label'
    for directory in (img_dir, label_dir):
        if not directory.is_dir():
            raise FileNotFoundError(f'{root}: no {directory.name}/ folder (layout IMG/<i>.<ext> + '
                                    f'label/<i>.txt)')
    images, labels = _numbered_files(img_dir), dict(_numbered_files(label_dir))
    unlabeled = [str(p) for i, p in images if i not in labels]
    orphans = sorted(set(labels) - {i for i, _ in images})
    if unlabeled or orphans:
        raise DatasetFormatError(f'{root}: images without label file: {unlabeled[:5]}; label files without '
                                 f'image: {[str(labels[i]) for i in orphans[:5]]} ({len(unlabeled)} and '
                                 f'{len(orphans)} in all)')
    return [(str(p), read_label_file(labels[i])) for i, p in images]


class FolderSource:
    """A labeled folder dataset as an :class:`~.lazy_dataset.ImageSource` (labels read up front).

    Args:
        root: Folder with ``IMG/`` and ``label/``.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.samples = list_folder_samples(root, labeled=True)

    def __len__(self) -> int:
        return len(self.samples)

    def img_path(self, index: int) -> str:
        return self.samples[index][0]

    def image(self, index: int) -> Optional[bytes]:
        return Path(self.samples[index][0]).read_bytes()

    def label(self, index: int) -> str:
        return self.samples[index][1]

    def label_path(self, index: int) -> str:
        return str(Path(self.root) / 'label' / f'{Path(self.samples[index][0]).stem}.txt')


@DATASETS.register_module()
class RecogFolderDataset(LazyRecogDataset):
    """Text-recognition samples of ``IMG/<i>.<ext>`` + ``label/<i>.txt`` folders (e.g. IIIT5K, SVT).

    Samples are ordered by id and come out as those of
    :class:`~lmim_mm.datasets.labeled_lmdb.LabeledLMDBDataset`, with ``img_path`` the image file.

    Args:
        data_root: Dataset folder or list of them.
        **kwargs: Arguments of :class:`~lmim_mm.datasets.lazy_dataset.LazyRecogDataset`.
    """

    def _open_source(self, root: str) -> FolderSource:
        return FolderSource(root)
