"""Labeled word-image LMDBs (clovaai / PARSeq / FudanVI / Union14M-L layout), streamed."""
from mmocr.registry import DATASETS

from .lazy_dataset import LazyRecogDataset
from .sources import LMDBSource


@DATASETS.register_module()
class LabeledLMDBDataset(LazyRecogDataset):
    """Text-recognition samples of LMDBs with ``num-samples``, ``image-%09d`` and ``label-%09d``.

    Unlike mmocr's ``RecogLMDBDataset``, which reads every label into memory at start-up, labels are
    read with their images, so multi-million-sample LMDBs start at once. Samples are ``dict(img,
    img_shape, ori_shape, img_path='<root>/image-%09d', sample_idx, instances=[dict(text=label)])``
    passed through ``pipeline`` (mmocr's recognition pipelines, without a loading transform or with
    ``LoadImageFromNDArray``).

    Args:
        data_root: LMDB directory or list of them.
        max_label_len: Drop training samples with longer labels (never test samples).
        **kwargs: Arguments of :class:`~lmim_mm.datasets.lazy_dataset.LazyImageDataset`.
    """

    def _open_source(self, root: str) -> LMDBSource:
        return LMDBSource(root)
