"""Data sources (:mod:`~.sources`), the lazy datasets on them, collate functions, transforms (views and token
masks: masks are drawn in the data pipeline) and dictionaries."""
from .collate import skip_collate
from .dictionary import GeneratedDictionary
from .lazy_dataset import (
                           LabeledLMDBDataset,
                           LazyImageDataset,
                           LazyRecogDataset,
                           RecogFolderDataset,
                           UnlabeledLMDBDataset,
)
from .sources import SOURCES, DataSource, LMDBImageBackend, open_source
from .transforms import (
                           BlockwiseMaskGenerator,
                           GuidanceAugment,
                           LMIMTwoView,
                           MixedMaskGenerator,
                           RandomPatchMaskGenerator,
                           SpanMaskGenerator,
)

__all__ = ['SOURCES', 'BlockwiseMaskGenerator', 'DataSource', 'GeneratedDictionary', 'GuidanceAugment',
           'LMDBImageBackend', 'LMIMTwoView', 'LabeledLMDBDataset', 'LazyImageDataset', 'LazyRecogDataset',
           'MixedMaskGenerator', 'RandomPatchMaskGenerator', 'RecogFolderDataset', 'SpanMaskGenerator',
           'UnlabeledLMDBDataset', 'open_source', 'skip_collate']
