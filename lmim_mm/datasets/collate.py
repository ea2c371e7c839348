"""Collate functions that drop the samples a lazy dataset skipped."""
from typing import Any, Callable, Sequence, Union

from mmengine.registry import FUNCTIONS


# mmengine's Runner looks collate functions up in mmengine's root FUNCTIONS registry (mmocr has no
# FUNCTIONS registry of its own, mmpretrain's is a child of the root and sees its entries).
@FUNCTIONS.register_module()
def skip_collate(data_batch: Sequence[Any], collate: Union[str, Callable] = 'pseudo_collate') -> Any:
    """Drop ``None`` (skipped) samples, then collate the rest.

    Use it with :class:`~lmim_mm.datasets.lazy_dataset.LazyImageDataset` subclasses, e.g.
    ``collate_fn=dict(type='skip_collate', collate='default_collate')`` for mmpretrain's ``SelfSupDataPreprocessor``
    or ``collate='pseudo_collate'`` for mmocr pipelines.

    Args:
        data_batch: Samples of one batch; ``None`` marks a skipped one.
        collate: Name of a registered collate function (e.g. ``'pseudo_collate'``) or the function itself.

    Returns:
        The collated batch of the kept samples.

    Raises:
        ValueError / KeyError: every sample of the batch was skipped / no such collate function.
    """
    kept = [sample for sample in data_batch if sample is not None]
    if not kept:
        raise ValueError(f'skip_collate: all {len(data_batch)} samples of a batch were skipped '
                         f'(undecodable or filtered); see the log for their keys')
    if isinstance(collate, str):
        with FUNCTIONS.switch_scope_and_registry(None) as registry:  # the default scope's registry
            collate_fn = registry.get(collate)
    else:
        collate_fn = collate
    if collate_fn is None:
        raise KeyError(f'skip_collate: no collate function {collate!r} in the FUNCTIONS registry')
    return collate_fn(kept)
