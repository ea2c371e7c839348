"""Data sources (:mod:`~.sources`: LMDB, folder, MMOCR JSON, ``path<TAB>label`` text), the lazy datasets on them,
collate functions, transforms and dictionaries.

Token masks are drawn here, in the data pipeline (:mod:`lmim_mm.datasets.transforms.mask_transform`).
"""
from .collate import skip_collate
from .dictionary import GeneratedDictionary
from .folder_dataset import RecogFolderDataset
from .labeled_lmdb import LabeledLMDBDataset
from .lazy_dataset import LazyImageDataset, LazyRecogDataset
from .sources import SOURCES, DataSource, LMDBImageBackend, open_source
from .transforms import (
    BlockwiseMaskGenerator,
    GuidanceAugment,
    LMIMTwoView,
    MixedMaskGenerator,
    RandomPatchMaskGenerator,
    SpanMaskGenerator,
)
from .unlabeled_lmdb import UnlabeledLMDBDataset

__all__ = [
    'SOURCES', 'BlockwiseMaskGenerator', 'DataSource', 'GeneratedDictionary', 'GuidanceAugment', 'LMDBImageBackend',
    'LMIMTwoView', 'LabeledLMDBDataset', 'LazyImageDataset', 'LazyRecogDataset', 'MixedMaskGenerator',
    'RandomPatchMaskGenerator', 'RecogFolderDataset', 'SpanMaskGenerator', 'UnlabeledLMDBDataset', 'open_source',
    'skip_collate'
]
