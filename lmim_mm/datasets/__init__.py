"""Datasets (lazy LMDB / folder readers), collate functions, transforms and data converters.

The model-side mask generators live in :mod:`lmim_mm.models.utils.masking`; the
:class:`~lmim_mm.datasets.transforms.MaskGenerate` transform runs them in data workers.
"""
from .collate import skip_collate
from .dictionary import GeneratedDictionary
from .folder_dataset import RecogFolderDataset
from .labeled_lmdb import LabeledLMDBDataset
from .lmdb_backend import LMDBImageBackend
from .lazy_dataset import LazyImageDataset, LazyRecogDataset
from .transforms import GuidanceAugment, LMIMTwoView, MaskGenerate
from .unlabeled_lmdb import UnlabeledLMDBDataset

__all__ = [
    'GeneratedDictionary', 'GuidanceAugment', 'LMDBImageBackend', 'LMIMTwoView', 'LabeledLMDBDataset',
    'LazyImageDataset', 'LazyRecogDataset', 'MaskGenerate', 'RecogFolderDataset', 'UnlabeledLMDBDataset',
    'skip_collate'
]
