"""Mask transforms: exact counts, structure, mixing, seeding and registration."""
import numpy as np
import pytest
import torch

from lmim_mm.datasets.transforms.mask_transform import (
    BlockwiseMaskGenerator,
    MixedMaskGenerator,
    RandomPatchMaskGenerator,
    SpanMaskGenerator,
)

H, W = 8, 32


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def perimeter(mask: np.ndarray, grid=(H, W)) -> np.ndarray:
    """Per mask (N, H * W): the number of neighbouring token pairs with one masked, one visible."""
    m = mask.reshape(-1, *grid)
    return (m[:, 1:] != m[:, :-1]).sum((1, 2)) + (m[:, :, 1:] != m[:, :, :-1]).sum((1, 2))


GENERATORS = [
    (RandomPatchMaskGenerator, dict(ratio=0.75), 192),
    (RandomPatchMaskGenerator, dict(ratio=0.8), 205),
    (BlockwiseMaskGenerator, dict(ratio=0.6), 154),
    (BlockwiseMaskGenerator, dict(ratio=0.75), 192),
    (BlockwiseMaskGenerator, dict(ratio=0.95, min_num_patches=9), 244),
    (BlockwiseMaskGenerator, dict(ratio=0.3, min_num_patches=16, aspect=(3.0, 4.0)), 77),
    (SpanMaskGenerator, dict(ratio=0.5), 128),
    (SpanMaskGenerator, dict(ratio=0.75, min_span=2, max_span=5), 192),
    (MixedMaskGenerator, dict(), 192),
]


@pytest.mark.parametrize('cls,kwargs,num_masked', GENERATORS)
def test_exact_count_for_many_seeds(cls, kwargs, num_masked):
    gen = cls(**kwargs)
    assert gen.num_masked == num_masked and gen.grid_size == (H, W)
    for seed in range(4):
        mask = gen.draw(128, rng(seed))
        assert mask.dtype == bool and mask.shape == (128, H * W)
        assert mask.sum(1).tolist() == [num_masked] * 128


def test_lmim_ratio_matches_the_authors_fixture(fixtures_dir):
    fixture_mask = torch.load(fixtures_dir / 'lmim_pretrain_seed0.pt', weights_only=True)['mask']
    assert RandomPatchMaskGenerator(0.8).num_masked == int(fixture_mask.sum(1)[0]) == 205


def test_random_patch_keeps_the_smallest_noise_like_mae():
    mask = RandomPatchMaskGenerator(0.75).draw(6, rng(3))
    kept = rng(3).random((6, H * W)).argsort(1)[:, :64]  # MAE: the first int(L * (1 - ratio)) of argsort(noise)
    expected = np.ones((6, H * W), dtype=bool)
    np.put_along_axis(expected, kept, False, axis=1)
    np.testing.assert_array_equal(mask, expected)


def test_blockwise_masks_are_blocks_and_a_single_block_is_a_whole_rectangle():
    block, patch = BlockwiseMaskGenerator(0.6).draw(256, rng(0)), RandomPatchMaskGenerator(0.6).draw(256, rng(0))
    assert perimeter(block).mean() < 0.4 * perimeter(patch).mean()
    square = BlockwiseMaskGenerator(16 / 256, min_num_patches=16, aspect=1.0).draw(64, rng(1)).reshape(-1, H, W)
    rows, cols = square.any(2), square.any(1)
    assert rows.sum(1).tolist() == [4] * 64 and cols.sum(1).tolist() == [4] * 64  # one 4 x 4 square each
    assert (square == (rows[:, :, None] & cols[:, None, :])).all()
    assert len({m.tobytes() for m in square}) > 32  # placed anywhere


def test_span_masks_are_whole_columns():
    grid = SpanMaskGenerator(0.5, p=0.3, max_span=6).draw(400, rng(2)).reshape(-1, H, W)
    assert (grid.all(1) == grid.any(1)).all() and grid.all(1).sum(1).tolist() == [16] * 400
    single = SpanMaskGenerator(0.25, min_span=8).draw(64, rng(3)).reshape(-1, H, W).all(1)
    starts = np.diff(single.astype(int), axis=1, prepend=0) == 1
    assert starts.sum(1).tolist() == [1] * 64 and single.sum(1).tolist() == [8] * 64  # one run of 8 columns
    long_spans = SpanMaskGenerator(0.5, p=0.1).draw(400, rng(4)).reshape(-1, H, W).all(1)
    short_spans = SpanMaskGenerator(0.5, p=0.9).draw(400, rng(4)).reshape(-1, H, W).all(1)
    runs = [(np.diff(m.astype(int), axis=1, prepend=0) == 1).sum() for m in (long_spans, short_spans)]
    assert runs[0] < 0.6 * runs[1]


def test_mixture_proportions_and_member_signatures():
    gen = MixedMaskGenerator([dict(type='RandomPatchMaskGenerator'), dict(type='SpanMaskGenerator')], probs=[3, 1])
    mask = gen.draw(10_000, rng(0)).reshape(-1, H, W)
    whole_columns = (mask.all(1) == mask.any(1)).all(1)
    assert whole_columns.mean() == pytest.approx(0.25, abs=0.02)  # random patches are never whole columns
    assert (mask.sum((1, 2)) == 192).all()


def test_mixture_needs_one_count_and_takes_member_instances():
    with pytest.raises(ValueError, match='share grid_size and num_masked'):
        MixedMaskGenerator([dict(type='RandomPatchMaskGenerator', ratio=0.75),
                            dict(type='BlockwiseMaskGenerator', ratio=0.6),
                            dict(type='SpanMaskGenerator', ratio=0.5)])
    with pytest.raises(ValueError, match='probs'):
        MixedMaskGenerator(probs=[1.0, 2.0])
    gen = MixedMaskGenerator([RandomPatchMaskGenerator(0.5), dict(type='SpanMaskGenerator')], probs=[0, 1],
                             ratio=None)
    assert gen.num_masked == 128
    assert (gen.draw(50, rng(1)).reshape(-1, H, W).all(1).sum(1) == 16).all()


def test_transform_is_seeded_by_numpy_and_refills_per_process():
    """mmengine seeds numpy in every dataloader worker; a buffer filled before the fork is not reused."""
    masker = BlockwiseMaskGenerator(0.6, buffer_size=4)
    np.random.seed(0)
    masks = [masker({})['mask'] for _ in range(6)]
    assert all(m.dtype == bool and m.shape == (256, ) and m.sum() == 154 for m in masks)
    assert len({m.tobytes() for m in masks}) == 6
    np.random.seed(0)
    again = BlockwiseMaskGenerator(0.6, buffer_size=4)
    assert all(np.array_equal(a, again({})['mask']) for a in masks)
    again._pid = -1  # as if the buffer had been filled before the worker was forked
    np.random.seed(9)
    assert not np.array_equal(again({})['mask'], masks[0])


def test_registered_once_as_mmpretrain_transforms():
    from mmocr.registry import TRANSFORMS as MMOCR_TRANSFORMS
    from mmpretrain.registry import TRANSFORMS
    for cls in (RandomPatchMaskGenerator, BlockwiseMaskGenerator, SpanMaskGenerator, MixedMaskGenerator):
        assert TRANSFORMS.get(cls.__name__) is cls and MMOCR_TRANSFORMS.get(cls.__name__) is None
    assert isinstance(TRANSFORMS.build(dict(type='mmpretrain.MixedMaskGenerator')), MixedMaskGenerator)


@pytest.mark.parametrize('build, message', [
    (lambda: RandomPatchMaskGenerator(1.5), 'RandomPatchMaskGenerator: ratio must be a number in [0, 1]'),
    (lambda: BlockwiseMaskGenerator(0.0), 'BlockwiseMaskGenerator: ratio=0.0 masks 0 of 256 units'),
    (lambda: SpanMaskGenerator(1.0), 'SpanMaskGenerator: ratio=1.0 masks 256 of 256 units'),
    (lambda: BlockwiseMaskGenerator(aspect=(-1, 2)), 'aspect ratios must be positive'),
    (lambda: BlockwiseMaskGenerator(min_num_patches=0), 'min_num_patches'),
    (lambda: SpanMaskGenerator(p=1.0), 'p must be in (0, 1)'),
    (lambda: RandomPatchMaskGenerator(grid_size=(0, 4)), 'grid_size must be two positive ints'),
])
def test_bad_arguments_raise_naming_the_option(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert message in str(info.value)


def test_other_grids():
    for gen in (BlockwiseMaskGenerator(0.5, grid_size=(4, 16)), BlockwiseMaskGenerator(0.7, grid_size=(5, 20)),
                SpanMaskGenerator(0.5, grid_size=(3, 47)), RandomPatchMaskGenerator(0.75, grid_size=(4, 16))):
        mask = gen.draw(64, rng(2))
        assert mask.shape == (64, gen.num_tokens) and (mask.sum(1) == gen.num_masked).all()
