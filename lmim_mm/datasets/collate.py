"""Collate functions that drop the samples a lazy dataset skipped."""
from typing import Any, Callable, Sequence, Union

from mmengine.registry import FUNCTIONS


# The Runner looks collate functions up in mmengine's root FUNCTIONS (mmocr has none, mmpretrain's child one sees it)
@FUNCTIONS.register_module()
def skip_collate(data_batch: Sequence[Any], collate: Union[str, Callable] = 'pseudo_collate') -> Any:
    """Drop the ``None`` (skipped) samples of ``data_batch``, then collate the rest with ``collate``, the name of a
    registered collate function (e.g. ``'pseudo_collate'``) or the function itself.

    Use it with :class:`~lmim_mm.datasets.lazy_dataset.LazyImageDataset` subclasses, e.g.
    ``collate_fn=dict(type='skip_collate', collate='default_collate')`` for mmpretrain's ``SelfSupDataPreprocessor``
    or ``collate='pseudo_collate'`` for mmocr pipelines.

    Raises:
        ValueError / KeyError: every sample of the batch was skipped / no such collate function.
    """
    kept = [sample for sample in data_batch if sample is not None]
    if not kept:
        raise ValueError(f'skip_collate: all {len(data_batch)} samples of a batch were skipped '
                         f'(undecodable or filtered); see the log for their keys')
    collate_fn = collate
    if isinstance(collate, str):
        with FUNCTIONS.switch_scope_and_registry(None) as registry:  # the default scope's registry
            collate_fn = registry.get(collate)
    if collate_fn is None:
        raise KeyError(f'skip_collate: no collate function {collate!r} in the FUNCTIONS registry')
    return collate_fn(kept)
