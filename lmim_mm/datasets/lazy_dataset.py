"""The lazy image datasets (LMDBs, folders): several sources, on-demand decoding, skip accounting."""
import copy
import logging
import operator
import os
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmocr.registry import DATASETS
from torch.utils.data import Dataset, get_worker_info

from .image_io import MAX_IMAGE_PIXELS, ImageDecodeError, read_image
from .sources import DatasetFormatError, DataSource, FolderSource, LMDBSource

Roots = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


@dataclass
class SourceStats:
    """What was read from one source: images decoded or refused, samples dropped by the filter."""

    seen: int = 0
    skipped: int = 0
    filtered: int = 0


#: Rows of the shared counts: the main process, then worker ``i`` -> row ``i + 1`` (workers past the last share it).
COUNT_ROWS = 65
_SEEN, _SKIPPED, _FILTERED = range(3)


def subset_size(total: int, num_samples: Union[None, int, float], root: str) -> int:
    """How many leading samples of a source of ``total`` (path ``root``) to use: ``num_samples`` is ``None``
    (all), a count (capped at ``total``, with a warning) or a fraction in ``(0, 1]``."""
    if num_samples is None:
        return total
    if isinstance(num_samples, float):
        if not 0 < num_samples <= 1:
            raise ValueError(f'num_samples={num_samples}: a fraction must be in (0, 1]')
        return int(total * num_samples)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 0:
        raise ValueError(f'num_samples={num_samples!r}: expected None, a count >= 0 or a fraction')
    if num_samples > total:
        print_log(f'{root}: num_samples={num_samples} but it holds {total}; using all', logger='current',
                  level=logging.WARNING)
    return min(num_samples, total)


class LazyImageDataset(Dataset):
    """Base of the lazy datasets: one or several roots (opened by :attr:`SOURCE`) concatenated, images decoded on
    access; construction reads only sizes (no annotation list: 10M-image LMDBs start at once).

    ``__getitem__`` returns the pipeline output of ``dict(img, img_shape, ori_shape, img_path, sample_idx)`` (plus
    what :meth:`get_data_info` of a subclass adds), ``img`` (H, W, 3) uint8 BGR. An image that :func:`read_image`
    refuses is logged (key, root, reason; on any rank), counted in shared memory, one row per process
    (:meth:`epoch_stats`), and gives ``None``, which :func:`~.collate.skip_collate` drops (``test_mode=True``: an
    error). A root raises once ``skipped > max_skip_fraction * max(seen, min(skip_check_after, size))`` in one
    process: one bad image early in a big LMDB does not stop a run, a root broken throughout fails soon.

    Args:
        data_root: A root or a list of roots, concatenated in order.
        pipeline: Transform configs (built in the current default scope) or callables.
        num_samples: Use the first ``num_samples`` of each root (an int), that fraction (a float in ``(0, 1]``) or all.
        max_skip_fraction: Largest tolerated fraction of undecodable images per root.
        skip_check_after: Reads of a root after which the fraction is taken at face value.
        test_mode: Raise on undecodable images instead of skipping them.
        metainfo: Extra meta information, merged into :attr:`METAINFO`.
        color_type, imdecode_backend, max_pixels: ``color_type``, ``backend``, ``max_pixels`` of :func:`read_image`.
    """

    METAINFO: dict = dict()
    #: Opens one root (:mod:`~.sources`).
    SOURCE: Callable[[str], DataSource] = LMDBSource

    def __init__(self, data_root: Roots, pipeline: Optional[Sequence[Union[dict, Callable]]] = None,
                 num_samples: Union[None, int, float] = None, max_skip_fraction: float = 0.01,
                 skip_check_after: int = 1000, test_mode: bool = False, metainfo: Optional[dict] = None,
                 color_type: str = 'color', imdecode_backend: str = 'cv2', max_pixels: int = MAX_IMAGE_PIXELS) -> None:
        roots = [data_root] if isinstance(data_root, (str, os.PathLike)) else list(data_root)
        if not roots:
            raise ValueError(f'{type(self).__name__}: data_root is empty')
        if not 0 <= max_skip_fraction <= 1:
            raise ValueError(f'max_skip_fraction={max_skip_fraction} is not in [0, 1]')
        self.sources: List[DataSource] = [self.SOURCE(os.fspath(r)) for r in roots]
        self.sizes = [subset_size(len(s), num_samples, s.root) for s in self.sources]
        empty = [s.root for s, size in zip(self.sources, self.sizes) if size == 0]
        if empty:
            raise DatasetFormatError(f'{type(self).__name__}: no sample to read in {empty} (num-samples is 0, '
                                     f'or num_samples={num_samples!r} selects none)')
        self._ends = np.cumsum(self.sizes)
        self.pipeline = Compose(pipeline)
        self.max_skip_fraction = max_skip_fraction
        self.skip_check_after = skip_check_after
        self.test_mode = test_mode
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.max_pixels = max_pixels
        self._metainfo = dict(copy.deepcopy(self.METAINFO), **(metainfo or {}))
        # (process row, source, seen / skipped / filtered), shared with the data loader workers
        self._counts = torch.zeros(COUNT_ROWS, len(self.sources), 3, dtype=torch.int64).share_memory_()

    @property
    def metainfo(self) -> dict:
        """Meta information of the dataset (a copy)."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Nothing to do: the dataset is lazy by design (called by mmengine's Runner)."""

    def __len__(self) -> int:
        return int(self._ends[-1])

    def _locate(self, idx: int) -> Tuple[int, int, int]:
        """Map a global index (negative counts from the end) to ``(index, source number, index in that source)``."""
        idx = operator.index(idx)
        idx = idx + len(self) if idx < 0 else idx
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range for {type(self).__name__} of {len(self)}')
        src = int(np.searchsorted(self._ends, idx, side='right'))
        return idx, src, idx - (int(self._ends[src - 1]) if src else 0)

    def get_data_info(self, idx: int) -> dict:
        """Annotation of sample ``idx`` without the image: ``img_path`` and ``sample_idx``."""
        idx, src, index = self._locate(idx)
        return dict(img_path=self.sources[src].img_path(index), sample_idx=idx)

    def _keep(self, data_info: dict) -> bool:
        """Whether a sample passes the dataset's filter (none here)."""
        return True

    def _row(self) -> torch.Tensor:
        """This process's (num_sources, 3) counts: row 0 in the main process, ``id + 1`` in a worker."""
        info = get_worker_info()
        return self._counts[0 if info is None else min(info.id + 1, COUNT_ROWS - 1)]

    def _as_stats(self, counts: torch.Tensor) -> Dict[str, SourceStats]:
        """(num_sources, 3) counts by root."""
        return {s.root: SourceStats(*map(int, counts[i])) for i, s in enumerate(self.sources)}

    def stats(self) -> Dict[str, SourceStats]:
        """Per root: images seen, skipped as unreadable and filtered, by this process."""
        return self._as_stats(self._row())

    def epoch_stats(self) -> Dict[str, SourceStats]:
        """Per root: the counts of this process and its data loader workers since :meth:`reset_stats`."""
        return self._as_stats(self._counts.sum(0))

    def reset_stats(self) -> None:
        """Zero the counts of every process (call it before the workers of an epoch start)."""
        self._counts.zero_()

    def _record_skip(self, src: int, error: ImageDecodeError) -> None:
        """Count and log (on any rank: mmengine logs rank 0 only) a refused image; raise past ``max_skip_fraction``."""
        root = self.sources[src].root
        if self.test_mode:
            raise DatasetFormatError(f'undecodable image {error} (test samples are never skipped)') from error
        counts = self._row()[src]
        counts[_SKIPPED] += 1
        skipped, seen = int(counts[_SKIPPED]), int(counts[_SEEN])
        message = (f'{type(self).__name__}: skipped undecodable image {error} ({skipped} of {seen} read from {root} '
                   f'in this process)')
        if get_rank() == 0:
            print_log(message, logger='current', level=logging.WARNING)
        else:
            print(f'[rank {get_rank()}] WARNING - {message}', file=sys.stderr, flush=True)
        if skipped > self.max_skip_fraction * max(seen, min(self.skip_check_after, self.sizes[src])):
            raise DatasetFormatError(
                f'{root}: {skipped} of {seen} images read are undecodable or refused, more than '
                f'max_skip_fraction={self.max_skip_fraction}; the data is broken or not an image LMDB')

    def __getitem__(self, idx: int) -> Optional[Any]:
        """Pipeline output of sample ``idx``, or ``None`` (skip marker) if it is dropped."""
        data_info = self.get_data_info(idx)
        _, src, index = self._locate(idx)
        counts = self._row()[src]
        if not self._keep(data_info):
            counts[_FILTERED] += 1
            if counts[_FILTERED] == 1:
                print_log(f'{type(self).__name__}: {self.sources[src].root}: dropping training samples '
                          f'that the filter rejects (first: {data_info["img_path"]!r}); counted in '
                          f'stats()', logger='current', level=logging.INFO)
            return None
        counts[_SEEN] += 1
        try:
            img = read_image(self.sources[src].image(index), data_info['img_path'], self.color_type,
                             self.imdecode_backend, self.max_pixels)
        except ImageDecodeError as error:
            self._record_skip(src, error)
            return None
        data_info.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return self.pipeline(data_info)


class LazyRecogDataset(LazyImageDataset):
    """:class:`LazyImageDataset` (its arguments in ``**kwargs``) whose samples carry ``instances=[dict(text=label)]``
    for mmocr's recognition pipelines (without a loading transform, or with ``LoadImageFromNDArray``); labels are
    read with their images, not all at start-up as by mmocr's ``RecogLMDBDataset``.

    Args:
        max_label_len: In training, samples whose label is longer are dropped (``None``, counted in :meth:`stats`
            as filtered); test labels are never dropped (too long: a recognition error). An empty label is dropped
            the same way in training and an error in test mode.
    """

    METAINFO: dict = dict(task_name='textrecog')

    def __init__(self, data_root: Roots, max_label_len: Optional[int] = None, **kwargs) -> None:
        super().__init__(data_root, **kwargs)
        unlabeled = [source.root for source in self.sources if not source.labeled]
        if unlabeled:
            raise DatasetFormatError(f'{type(self).__name__}: {unlabeled} hold no labels (the first sample has none)')
        self.max_label_len = max_label_len

    def get_data_info(self, idx: int) -> dict:
        _, src, index = self._locate(idx)
        return dict(super().get_data_info(idx), instances=[dict(text=self.sources[src].label(index))])

    def _keep(self, data_info: dict) -> bool:
        text = data_info['instances'][0]['text']
        if not text and self.test_mode:
            raise DatasetFormatError(f'{data_info["img_path"]}: empty label (a test sample must have its text)')
        return bool(text) and (self.test_mode or self.max_label_len is None or len(text) <= self.max_label_len)


@DATASETS.register_module()
class UnlabeledLMDBDataset(LazyImageDataset):
    """Images of word-image LMDBs (``num-samples``, ``image-%09d``; Union14M-U, UCTI-11M) for pretraining;
    ``img_path`` is ``<root>/image-%09d``. Arguments: those of :class:`LazyImageDataset`, ``data_root`` an LMDB
    directory or a list of them, e.g. ``UnlabeledLMDBDataset(['book32_lmdb', 'cc_lmdb'], num_samples=0.1,
    pipeline=[dict(type='Resize', scale=(128, 32))])`` (two of Union14M-U's book32, cc and openvino)."""

    METAINFO: dict = dict(task_name='selfsup')


@DATASETS.register_module()
class LabeledLMDBDataset(LazyRecogDataset):
    """Text-recognition samples of labeled LMDBs (``label-%09d`` too; clovaai / PARSeq / FudanVI / Union14M-L);
    ``img_path`` is ``<root>/image-%09d``. Arguments: those of :class:`LazyRecogDataset` (``data_root``: LMDBs)."""


@DATASETS.register_module()
class RecogFolderDataset(LazyRecogDataset):
    """Text-recognition samples of ``IMG/<i>.<ext>`` + ``label/<i>.txt`` folders (e.g. IIIT5K, SVT), by id;
    ``img_path`` is the image file. Arguments: those of :class:`LazyRecogDataset` (``data_root``: folders)."""

    SOURCE = partial(FolderSource, labeled=True)
