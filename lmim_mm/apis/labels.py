"""The labels of datasets on disk, for dictionaries and their coverage (``tools/data/build_dict.py``,
``tools/analysis_tools/dict_coverage.py``)."""
from typing import Iterator

from lmim_mm.datasets.sources import SOURCES, DatasetFormatError, DataSource, PathLike, open_source
from lmim_mm.evaluation.metrics.chinese_metric import read_predictions

#: Formats :func:`read_labels` understands: the data sources, FudanVI prediction files and label lines.
LABEL_FORMATS = (*SOURCES.module_dict, 'predictions', 'lines')


def read_labels(path: PathLike, fmt: str = 'auto') -> Iterator[str]:
    """An iterator over the labels of a dataset on disk; an unlabeled data source raises a ``DatasetFormatError``.

    Args:
        path: A data source (:func:`lmim_mm.datasets.open_source`: LMDB, ``IMG/`` + ``label/`` folder, MMOCR
            1.x JSON, ``path<TAB>label`` text), a FudanVI prediction file (``<index> [<prediction>] [<ground
            truth>]`` lines: the ground truths) or a text file with one label per line (empty lines skipped).
        fmt: One of :data:`LABEL_FORMATS`, or ``'auto'`` (a data source of the guessed format).
    """
    if fmt == 'predictions':
        return iter(read_predictions(path)[1])
    if fmt == 'lines':
        with open(path, encoding='utf-8') as f:
            return iter([line.rstrip('\r\n') for line in f if line.rstrip('\r\n')])
    source = open_source(path, fmt)
    if len(source) and not source.labeled:
        raise DatasetFormatError(f'{path}: unlabeled, no labels to read')
    return _labels(source)


def _labels(source: DataSource) -> Iterator[str]:
    try:
        yield from (source.label(index) for index in range(len(source)))
    finally:
        source.close()
