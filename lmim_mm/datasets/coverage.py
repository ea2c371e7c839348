"""How well a dictionary covers the labels of a dataset (a character outside it is encoded as UNKNOWN);
labels of files on disk: :func:`lmim_mm.apis.read_labels`."""
import collections
from dataclasses import dataclass, field
from typing import Callable, Collection, Dict, Iterable, Iterator, List, Optional, Tuple

from .lazy_dataset import LazyRecogDataset


@dataclass
class Coverage:
    """Out-of-dictionary counts of one dataset ``name`` (a path or a name): ``num_labels`` checked, ``num_oov_labels``
    with at least one character outside the dictionary, the occurrences of each such character (``oov_chars``) and
    the first labels (file path or LMDB key) holding each, where known (``holders``)."""

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
        """One line: labels, the share out of dictionary, the ``top`` most frequent such characters, their holders."""
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
    """Count the labels of dataset ``name`` with characters outside ``chars`` (a set is fastest), and those characters.

    Args:
        locate: Where the label of a 0-based index is stored (file path or LMDB key), asked only for labels
            holding characters outside ``chars``.
        num_holders: Labels located per such character (the first ones).
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


def dataset_label_sets(dataset) -> Iterator[Tuple[str, Iterable[str], Callable[[int], str]]]:
    """``(name, labels, locate)`` for each root of a built text-recognition dataset: its labels and where the label of
    a 0-based index is stored (for messages). Concatenations (``datasets`` attribute) are walked;
    :class:`LazyRecogDataset` gives one entry per root (the samples it uses, ``num_samples`` applied), other datasets
    with ``get_data_info`` (mmocr's ``OCRDataset`` family) one named by their annotation file or root; any other
    dataset raises ``TypeError``."""
    if hasattr(dataset, 'datasets'):
        for child in dataset.datasets:
            yield from dataset_label_sets(child)
    elif isinstance(dataset, LazyRecogDataset):
        for source, size in zip(dataset.sources, dataset.sizes):
            yield source.root, (source.label(index) for index in range(size)), source.label_path
    elif hasattr(dataset, 'get_data_info'):
        dataset.full_init()
        name = getattr(dataset, 'ann_file', '') or getattr(dataset, 'data_root', '') or type(dataset).__name__
        labels = (instance['text'] for index in range(len(dataset))
                  for instance in dataset.get_data_info(index)['instances'])
        yield str(name), labels, lambda index: f'{name} (label {index + 1})'
    else:
        raise TypeError(f'cannot read the labels of a {type(dataset).__name__}')

