"""Datasets (lazy LMDB / folder readers), collate functions, transforms and data converters.

Token masks are drawn here, in the data pipeline (:mod:`lmim_mm.datasets.transforms.mask_transform`).
"""
from .collate import skip_collate
from .dictionary import GeneratedDictionary
from .folder_dataset import RecogFolderDataset
from .labeled_lmdb import LabeledLMDBDataset
from .lmdb_backend import LMDBImageBackend
from .lazy_dataset import LazyImageDataset, LazyRecogDataset
from .transforms import (BlockwiseMaskGenerator, GuidanceAugment, LMIMTwoView, MixedMaskGenerator,
                         RandomPatchMaskGenerator, SpanMaskGenerator)
from .unlabeled_lmdb import UnlabeledLMDBDataset

__all__ = [
    'BlockwiseMaskGenerator', 'GeneratedDictionary', 'GuidanceAugment', 'LMDBImageBackend', 'LMIMTwoView',
    'LabeledLMDBDataset', 'LazyImageDataset', 'LazyRecogDataset', 'MixedMaskGenerator', 'RandomPatchMaskGenerator',
    'RecogFolderDataset', 'SpanMaskGenerator', 'UnlabeledLMDBDataset', 'skip_collate'
]
