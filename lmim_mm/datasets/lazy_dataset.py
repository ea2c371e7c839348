"""Shared machinery of the lazy image datasets: several sources, on-demand decoding, skip accounting.

Datasets built on :class:`LazyImageDataset` read nothing but sizes at construction (no per-sample
annotation list, so 10M-image LMDBs cost no start-up time or memory) and decode each image when it is
indexed. An undecodable image is not replaced by another sample: ``__getitem__`` returns ``None`` (the
skip marker, as an mmcv transform that drops a sample does), which :func:`~.collate.skip_collate`
removes from the batch. Each epoch thus yields every valid index exactly once.
"""
import copy
import logging
import operator
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import Compose
from mmengine.logging import print_log
from torch.utils.data import Dataset

from .lmdb_utils import DatasetFormatError, LMDBReader, decode_image, image_key

Roots = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


class ImageSource(Protocol):
    """One dataset root: a sized collection of encoded images, indexed from 0."""

    root: str

    def __len__(self) -> int:
        ...

    def img_path(self, index: int) -> str:
        """Name of image ``index`` for logs and ``img_path`` (a file path or ``<root>/<key>``)."""
        ...

    def image(self, index: int) -> Optional[bytes]:
        """Encoded bytes of image ``index`` (``None`` if absent)."""
        ...

    def label(self, index: int) -> str:
        """Label of sample ``index`` (labeled sources only)."""
        ...


class LMDBSource:
    """A text-recognition LMDB as an :class:`ImageSource` (index ``i`` is key ``image-{i+1:09d}``).

    Args:
        root: LMDB directory.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.reader = LMDBReader(root)

    def __len__(self) -> int:
        return len(self.reader)

    def img_path(self, index: int) -> str:
        return f'{self.root}/{image_key(index + 1)}'

    def image(self, index: int) -> Optional[bytes]:
        return self.reader.image(index + 1)

    def label(self, index: int) -> str:
        return self.reader.label(index + 1)


@dataclass
class SourceStats:
    """What one process has read from one source."""

    seen: int = 0
    skipped: int = 0
    filtered: int = 0


def subset_size(total: int, num_samples: Union[None, int, float], root: str) -> int:
    """How many leading samples of a source to use.

    Args:
        total: Samples in the source.
        num_samples: ``None`` (all), a count (capped at ``total``, with a warning) or a fraction in
            ``(0, 1]``.
        root: Source path, for messages.

    Returns:
        The number of samples to use.
    """
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
    """Base of the lazy datasets: one or several roots concatenated, images decoded on access.

    ``__getitem__`` returns the pipeline output of ``dict(img, img_shape, ori_shape, img_path,
    sample_idx)`` (plus what :meth:`get_data_info` of a subclass adds), ``img`` being ``(H, W, 3)``
    uint8 BGR as :func:`mmcv.imfrombytes` gives it. An undecodable image is logged with its key and
    root and ``None`` is returned; with ``test_mode=True`` it raises instead (test samples are never
    dropped). A root whose share of undecodable images (in this process) exceeds
    ``max_skip_fraction`` raises: ``skipped > max_skip_fraction * max(seen, min(skip_check_after,
    size))`` - the floor keeps one bad image among the first few reads of a big LMDB from stopping a
    run, while a root that is broken throughout fails within ``skip_check_after`` reads.

    Args:
        data_root: A root or a list of roots, concatenated in order.
        pipeline: Transform configs (built in the current default scope) or callables.
        num_samples: Use the first ``num_samples`` of each root (an int), that fraction of each root
            (a float in ``(0, 1]``), or all (``None``).
        max_skip_fraction: Largest tolerated fraction of undecodable images per root.
        skip_check_after: Reads of a root after which the fraction is taken at face value.
        test_mode: Raise on undecodable images instead of skipping them.
        metainfo: Extra meta information, merged into :attr:`METAINFO`.
        color_type: ``flag`` of :func:`mmcv.imfrombytes`.
        imdecode_backend: Backend of :func:`mmcv.imfrombytes`.
    """

    METAINFO: dict = dict()

    def __init__(self,
                 data_root: Roots,
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = None,
                 num_samples: Union[None, int, float] = None,
                 max_skip_fraction: float = 0.01,
                 skip_check_after: int = 1000,
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2') -> None:
        roots = [data_root] if isinstance(data_root, (str, os.PathLike)) else list(data_root)
        if not roots:
            raise ValueError(f'{type(self).__name__}: data_root is empty')
        if not 0 <= max_skip_fraction <= 1:
            raise ValueError(f'max_skip_fraction={max_skip_fraction} is not in [0, 1]')
        self.sources: List[ImageSource] = [self._open_source(os.fspath(r)) for r in roots]
        self.sizes = [subset_size(len(s), num_samples, s.root) for s in self.sources]
        self._ends = np.cumsum(self.sizes)
        self.pipeline = Compose(pipeline)
        self.max_skip_fraction = max_skip_fraction
        self.skip_check_after = skip_check_after
        self.test_mode = test_mode
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self._metainfo = dict(copy.deepcopy(self.METAINFO), **(metainfo or {}))
        self._stats: Dict[str, SourceStats] = {}
        self._stats_pid: Optional[int] = None

    def _open_source(self, root: str) -> ImageSource:
        """Open one root (subclasses choose the format)."""
        raise NotImplementedError

    @property
    def metainfo(self) -> dict:
        """Meta information of the dataset (a copy)."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Nothing to do: the dataset is lazy by design (called by mmengine's Runner)."""

    def __len__(self) -> int:
        return int(self._ends[-1])

    def _locate(self, idx: int) -> Tuple[int, int, int]:
        """Map a global index (negative counts from the end) to ``(index, source number, index in
        that source)``."""
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

    def stats(self) -> Dict[str, SourceStats]:
        """Per root: images seen, skipped as undecodable and filtered, by this process."""
        if self._stats_pid != os.getpid():  # counts of a parent process do not carry into workers
            self._stats = {s.root: SourceStats() for s in self.sources}
            self._stats_pid = os.getpid()
        return self._stats

    def _record_skip(self, src: int, img_path: str) -> None:
        """Count and log an undecodable image; raise if its root exceeds ``max_skip_fraction``."""
        root = self.sources[src].root
        if self.test_mode:
            raise DatasetFormatError(f'{root}: undecodable image {img_path!r} (test samples are never '
                                     f'skipped)')
        stats = self.stats()[root]
        stats.skipped += 1
        print_log(f'{type(self).__name__}: skipped undecodable image {img_path!r} of {root} '
                  f'({stats.skipped} of {stats.seen} read from it in this process)', logger='current',
                  level=logging.WARNING)
        floor = min(self.skip_check_after, self.sizes[src])
        if stats.skipped > self.max_skip_fraction * max(stats.seen, floor):
            raise DatasetFormatError(
                f'{root}: {stats.skipped} of {stats.seen} images read are undecodable, more than '
                f'max_skip_fraction={self.max_skip_fraction}; the data is broken or not an image LMDB')

    def __getitem__(self, idx: int) -> Optional[Any]:
        """Pipeline output of sample ``idx``, or ``None`` (skip marker) if it is dropped."""
        data_info = self.get_data_info(idx)
        _, src, index = self._locate(idx)
        stats = self.stats()[self.sources[src].root]
        if not self._keep(data_info):
            stats.filtered += 1
            if stats.filtered == 1:
                print_log(f'{type(self).__name__}: {self.sources[src].root}: dropping training samples '
                          f'that the filter rejects (first: {data_info["img_path"]!r}); counted in '
                          f'stats()', logger='current', level=logging.INFO)
            return None
        stats.seen += 1
        img = decode_image(self.sources[src].image(index), self.color_type, self.imdecode_backend)
        if img is None:
            self._record_skip(src, data_info['img_path'])
            return None
        data_info.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return self.pipeline(data_info)


class LazyRecogDataset(LazyImageDataset):
    """:class:`LazyImageDataset` whose samples carry a text label as mmocr expects.

    Adds ``instances=[dict(text=label)]`` to each sample, so mmocr's recognition pipelines (ending
    in ``PackTextRecogInputs``) apply unchanged.

    Args:
        max_label_len: In training (``test_mode=False``), samples whose label is longer are dropped
            (``None`` returned, counted in :meth:`stats` as filtered). Never applied in test mode:
            long test labels are kept and count as recognition errors.
        **kwargs: Arguments of :class:`LazyImageDataset`.
    """

    METAINFO: dict = dict(task_name='textrecog')

    def __init__(self, data_root: Roots, max_label_len: Optional[int] = None, **kwargs) -> None:
        super().__init__(data_root, **kwargs)
        self.max_label_len = max_label_len

    def get_data_info(self, idx: int) -> dict:
        """Annotation of sample ``idx``: ``img_path``, ``sample_idx`` and ``instances``."""
        _, src, index = self._locate(idx)
        return dict(super().get_data_info(idx), instances=[dict(text=self.sources[src].label(index))])

    def _keep(self, data_info: dict) -> bool:
        return (self.test_mode or self.max_label_len is None
                or len(data_info['instances'][0]['text']) <= self.max_label_len)
