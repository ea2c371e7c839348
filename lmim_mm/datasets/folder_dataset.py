"""Word images stored as files: ``IMG/<i>.<ext>`` + ``label/<i>.txt`` folders (read by
:class:`~.sources.FolderSource`)."""
from mmocr.registry import DATASETS

from .lazy_dataset import LazyRecogDataset
from .sources import FolderSource


@DATASETS.register_module()
class RecogFolderDataset(LazyRecogDataset):
    """Text-recognition samples of ``IMG/<i>.<ext>`` + ``label/<i>.txt`` folders (e.g. IIIT5K, SVT).

    Samples are ordered by id and come out as those of
    :class:`~lmim_mm.datasets.labeled_lmdb.LabeledLMDBDataset`, with ``img_path`` the image file.

    Args:
        data_root: Dataset folder or list of them.
        **kwargs: Arguments of :class:`~lmim_mm.datasets.lazy_dataset.LazyRecogDataset`.
    """

    def _open_source(self, root: str) -> FolderSource:
        return FolderSource(root, labeled=True)
