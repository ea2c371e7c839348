"""Unlabeled word-image LMDBs (Union14M-U, UCTI-11M) for self-supervised pretraining."""
from mmocr.registry import DATASETS

from .lazy_dataset import LazyImageDataset
from .sources import LMDBSource


@DATASETS.register_module()
class UnlabeledLMDBDataset(LazyImageDataset):
    """Images of one or several LMDBs with keys ``num-samples`` and ``image-%09d`` (1-based).

    Lazy: construction reads only ``num-samples`` of each LMDB; each data-loader worker opens its own
    readonly environment on first use. Samples are ``dict(img, img_shape, ori_shape,
    img_path='<root>/image-%09d', sample_idx)`` passed through ``pipeline``; an undecodable image
    gives ``None`` (use :func:`~lmim_mm.datasets.collate.skip_collate`).

    Args:
        data_root: LMDB directory or list of them (e.g. Union14M-U's book32, cc and openvino).
        **kwargs: Arguments of :class:`~lmim_mm.datasets.lazy_dataset.LazyImageDataset`
            (``pipeline``, ``num_samples``, ``max_skip_fraction``, ``test_mode``, ...).

    Example:
        >>> dataset = UnlabeledLMDBDataset(['book32_lmdb', 'cc_lmdb'], num_samples=0.1,
        ...                                pipeline=[dict(type='Resize', scale=(128, 32))])
    """

    METAINFO: dict = dict(task_name='selfsup')

    def _open_source(self, root: str) -> LMDBSource:
        return LMDBSource(root)
