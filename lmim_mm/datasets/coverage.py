"""How well a dictionary covers the labels of a dataset.

A label with a character outside the recognizer's dictionary is encoded with UNKNOWN: the model is
trained (or scored) on something other than the text. :func:`label_coverage` counts, for one
dataset, the labels that hold such characters and which characters they are; :func:`read_labels`
reads the labels of an LMDB, a folder, an MMOCR JSON file, a FudanVI prediction file or a text file;
:func:`dataset_label_sets` gives the labels of each root of a built dataset (for
:class:`~lmim_mm.engine.hooks.DictCoverageHook`).
"""
import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Dict, Iterable, Iterator, List, NamedTuple, Optional

from lmim_mm.evaluation.metrics.chinese_metric import read_predictions
from .folder_dataset import list_folder_samples
from .lazy_dataset import LazyRecogDataset
from .lmdb_utils import DatasetFormatError, LMDBReader, PathLike, load_mmocr_json

#: Formats :func:`read_labels` understands.
LABEL_FORMATS = ('lmdb', 'folder', 'json', 'predictions', 'lines')


@dataclass
class Coverage:
    """Out-of-dictionary counts of one dataset.

    Attributes:
        name: The dataset (a path or a name).
        num_labels: Labels checked.
        num_oov_labels: Labels with at least one character outside the dictionary.
        oov_chars: Occurrences of each character outside the dictionary.
        holders: The first labels (file path or LMDB key) holding each such character, where known.
    """

    name: str
    num_labels: int = 0
    num_oov_labels: int = 0
    oov_chars: collections.Counter = field(default_factory=collections.Counter)
    holders: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def oov_share(self) -> float:
        """Share of labels with an out-of-dictionary character (0 for no label)."""
        return self.num_oov_labels / self.num_labels if self.num_labels else 0.0

    def summary(self, top: int = 20) -> str:
        """One line: labels, the share out of dictionary, the ``top`` most frequent such characters and the
        first labels holding each."""
        line = (f'{self.name}: {self.num_oov_labels} of {self.num_labels} labels ({100 * self.oov_share:.2f}%) '
                f'hold characters outside the dictionary')
        if self.oov_chars:
            chars = ', '.join(f'{char!r} x{count}' + (f' (in {", ".join(self.holders[char])})' if char in self.holders
                                                      else '') for char, count in self.oov_chars.most_common(top))
            more = len(self.oov_chars) - top
            line += f': {chars}' + (f' and {more} more' if more > 0 else '')
        return line

    def to_dict(self, top: int = 20) -> dict:
        """JSON-ready figures, with the ``top`` most frequent out-of-dictionary characters."""
        return dict(name=self.name, num_labels=self.num_labels, num_oov_labels=self.num_oov_labels,
                    oov_share=round(self.oov_share, 6), num_oov_chars=len(self.oov_chars),
                    top_oov_chars=self.oov_chars.most_common(top),
                    holders={char: self.holders[char] for char, _ in self.oov_chars.most_common(top)
                             if char in self.holders})


def label_coverage(name: str, labels: Iterable[str], chars: Collection[str],
                   locate: Optional[Callable[[int], str]] = None, num_holders: int = 3) -> Coverage:
    """Count the labels with characters outside ``chars`` and those characters.

    Args:
        name: The dataset, for messages.
        labels: Its labels.
        chars: The dictionary's characters (a set is fastest).
        locate: Where the label of a 0-based index is stored (file path or LMDB key), asked only for
            labels holding characters outside ``chars``.
        num_holders: Labels located per such character (the first ones).

    Returns:
        The counts.
    """
    chars = chars if isinstance(chars, (set, frozenset)) else set(chars)
    coverage = Coverage(name)
    for index, label in enumerate(labels):
        coverage.num_labels += 1
        missing = [char for char in label if char not in chars]
        if missing:
            coverage.num_oov_labels += 1
            coverage.oov_chars.update(missing)
            new = [char for char in dict.fromkeys(missing) if len(coverage.holders.get(char, ())) < num_holders]
            if locate is not None and new:
                where = locate(index)
                for char in new:
                    coverage.holders.setdefault(char, []).append(where)
    return coverage


def _lmdb_labels(path: Path) -> Iterator[str]:
    reader = LMDBReader(path)
    try:
        yield from (reader.label(index) for index in range(1, len(reader) + 1))
    finally:
        reader.close()


def _folder_labels(path: Path) -> Iterator[str]:
    return (label for _, label in list_folder_samples(path, labeled=True))


def _json_labels(path: Path) -> Iterator[str]:
    return (label for _, label in load_mmocr_json(path) if label is not None)


def _prediction_labels(path: Path) -> Iterator[str]:
    return iter(read_predictions(path)[1])


def _line_labels(path: Path) -> Iterator[str]:
    with open(path, encoding='utf-8') as f:
        yield from (line.rstrip('\r\n') for line in f if line.rstrip('\r\n'))


_READERS: Dict[str, Callable[[Path], Iterator[str]]] = dict(
    lmdb=_lmdb_labels, folder=_folder_labels, json=_json_labels, predictions=_prediction_labels,
    lines=_line_labels)


def guess_label_format(path: PathLike) -> str:
    """``lmdb`` (a folder with ``data.mdb``), ``folder`` (``IMG/`` + ``label/``) or ``json`` (``*.json``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DatasetFormatError: None of these; other files need an explicit format.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f'no such dataset: {path}')
    if (path / 'data.mdb').is_file():
        return 'lmdb'
    if (path / 'IMG').is_dir() and (path / 'label').is_dir():
        return 'folder'
    if path.is_file() and path.suffix == '.json':
        return 'json'
    raise DatasetFormatError(f'{path}: not an LMDB, an IMG/ + label/ folder or an MMOCR .json; give its format '
                             f'(one of {", ".join(LABEL_FORMATS)})')


def read_labels(path: PathLike, fmt: str = 'auto') -> Iterator[str]:
    """The labels of a dataset on disk.

    Args:
        path: An LMDB, an ``IMG/`` + ``label/`` folder, an MMOCR 1.x JSON file, a FudanVI prediction
            file (``<index> [<prediction>] [<ground truth>]`` lines: the ground truths) or a text file
            with one label per line (empty lines skipped).
        fmt: One of :data:`LABEL_FORMATS`, or ``'auto'`` (see :func:`guess_label_format`).

    Returns:
        An iterator over the labels.
    """
    fmt = guess_label_format(path) if fmt == 'auto' else fmt
    if fmt not in _READERS:
        raise ValueError(f'unknown label format {fmt!r}; expected auto or one of {", ".join(LABEL_FORMATS)}')
    return _READERS[fmt](Path(path))


class LabelSet(NamedTuple):
    """The labels of one dataset root, and where the label of a 0-based index is stored (for messages)."""

    name: str
    labels: Iterable[str]
    locate: Callable[[int], str]


def dataset_label_sets(dataset) -> Iterator[LabelSet]:
    """A :class:`LabelSet` for each root of a built text-recognition dataset.

    Concatenations (``datasets`` attribute) are walked; :class:`LazyRecogDataset` gives one entry per
    root (the samples it uses, ``num_samples`` applied); other datasets with ``get_data_info`` (mmocr's
    ``OCRDataset`` family) one entry named by their annotation file or root.

    Raises:
        TypeError: A dataset that is none of these.
    """
    if hasattr(dataset, 'datasets'):
        for child in dataset.datasets:
            yield from dataset_label_sets(child)
    elif isinstance(dataset, LazyRecogDataset):
        for source, size in zip(dataset.sources, dataset.sizes):
            yield LabelSet(source.root, (source.label(index) for index in range(size)), source.label_path)
    elif hasattr(dataset, 'get_data_info'):
        dataset.full_init()
        name = getattr(dataset, 'ann_file', '') or getattr(dataset, 'data_root', '') or type(dataset).__name__
        yield LabelSet(str(name), (instance['text'] for index in range(len(dataset))
                                   for instance in dataset.get_data_info(index)['instances']),
                       lambda index: f'{name} (label {index + 1})')
    else:
        raise TypeError(f'cannot read the labels of a {type(dataset).__name__}')

