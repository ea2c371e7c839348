from .masking import (BaseMaskGenerator, BlockwiseMaskGenerator, MixedMaskGenerator, RandomPatchMaskGenerator,
                      RectangleMaskGenerator, SpanMaskGenerator, build_mask_generator)

__all__ = [
    'BaseMaskGenerator', 'BlockwiseMaskGenerator', 'MixedMaskGenerator', 'RandomPatchMaskGenerator',
    'RectangleMaskGenerator', 'SpanMaskGenerator', 'build_mask_generator'
]
