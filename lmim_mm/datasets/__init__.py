"""Datasets (lazy LMDB / folder readers), collate functions, transforms and data converters.

Token masks are drawn here, in the data pipeline (:mod:`lmim_mm.datasets.transforms.mask_transform`).
"""
from .collate import skip_collate
from .dictionary import GeneratedDictionary
from .folder_dataset import RecogFolderDataset
from .labeled_lmdb import LabeledLMDBDataset
from .lmdb_backend import LMDBImageBackend
from .lazy_dataset import LazyImageDataset, LazyRecogDataset
from .transforms import (BlockwiseMaskGenerator, ColorJitterView, GuidanceAugment, LMIMTwoView, MixedMaskGenerator,
                         PackTwoViewInputs, RandomGrayscaleView, RandomPatchMaskGenerator, ResizeViews,
                         SpanMaskGenerator)
from .unlabeled_lmdb import UnlabeledLMDBDataset

__all__ = [
    'BlockwiseMaskGenerator', 'ColorJitterView', 'GeneratedDictionary', 'GuidanceAugment', 'LMDBImageBackend',
    'LMIMTwoView', 'LabeledLMDBDataset', 'LazyImageDataset', 'LazyRecogDataset', 'MixedMaskGenerator',
    'PackTwoViewInputs', 'RandomGrayscaleView', 'RandomPatchMaskGenerator', 'RecogFolderDataset', 'ResizeViews',
    'SpanMaskGenerator', 'UnlabeledLMDBDataset', 'skip_collate'
]
