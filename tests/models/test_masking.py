"""Token mask generators: exact counts, structure, laws, mixing and reproducibility."""
import math

import numpy as np
import pytest
import torch

from lmim_mm.models.utils.masking import (MASK_GENERATORS, BlockwiseMaskGenerator, MixedMaskGenerator,
                                          RandomPatchMaskGenerator, SpanMaskGenerator, build_mask_generator,
                                          shape_grid)

H, W = 8, 32


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def paint(boxes: torch.Tensor, grid=(H, W)) -> torch.Tensor:
    """Union of boxes (N, R, 4) ``(top, left, h, w)`` as a bool (N, H * W) mask of the grid."""
    top, left, h, w = boxes.unbind(-1)
    rows = (torch.arange(grid[0]) >= top[..., None]) & (torch.arange(grid[0]) < (top + h)[..., None])
    cols = (torch.arange(grid[1]) >= left[..., None]) & (torch.arange(grid[1]) < (left + w)[..., None])
    return (rows[..., :, None] & cols[..., None, :]).any(1).flatten(1)


GENERATORS = [
    (RandomPatchMaskGenerator, dict(ratio=0.75), 192),
    (RandomPatchMaskGenerator, dict(ratio=0.8), 205),
    (BlockwiseMaskGenerator, dict(ratio=0.6), 154),
    (BlockwiseMaskGenerator, dict(ratio=0.75), 192),
    (BlockwiseMaskGenerator, dict(ratio=0.95, min_num_patches=9), 244),
    (SpanMaskGenerator, dict(ratio=0.5), 128),
    (SpanMaskGenerator, dict(ratio=0.75, min_span=2, max_span=5), 192),
    (MixedMaskGenerator, dict(), 192),
]


@pytest.mark.parametrize('cls,kwargs,num_masked', GENERATORS)
def test_exact_count_for_many_seeds(cls, kwargs, num_masked):
    gen = cls(**kwargs)
    assert gen.num_masked == num_masked and gen.grid_size == (H, W)
    for seed in range(4):
        mask = gen(128, generator=seeded(seed))
        assert mask.dtype == torch.bool and mask.shape == (128, H * W)
        assert mask.sum(1).tolist() == [num_masked] * 128


def test_lmim_ratio_matches_the_authors_fixture(fixtures_dir):
    fixture_mask = torch.load(fixtures_dir / 'lmim_pretrain_seed0.pt', weights_only=True)['mask']
    assert RandomPatchMaskGenerator(0.8).num_masked == int(fixture_mask.sum(1)[0]) == 205


def test_random_patch_keeps_the_smallest_noise_like_mae():
    mask = RandomPatchMaskGenerator(0.75)(6, generator=seeded(3))
    noise = torch.rand(6, H * W, generator=seeded(3))
    kept = noise.argsort(dim=1)[:, :64]  # MAE: the first int(L * (1 - ratio)) of argsort(noise)
    expected = torch.ones(6, H * W, dtype=torch.bool).scatter_(1, kept, False)
    assert torch.equal(mask, expected)


def test_same_seed_same_mask_and_global_seed_is_used():
    for cls in MASK_GENERATORS.values():
        gen = cls()
        assert torch.equal(gen(16, generator=seeded(7)), gen(16, generator=seeded(7)))
        assert not torch.equal(gen(16, generator=seeded(7)), gen(16, generator=seeded(8)))
        torch.manual_seed(5)
        first = gen(16)
        torch.manual_seed(5)
        assert torch.equal(first, gen(16))


@pytest.mark.parametrize('kwargs', [dict(ratio=0.6), dict(ratio=0.9), dict(ratio=0.3, min_num_patches=16),
                                    dict(ratio=0.6, aspect=(3.0, 4.0))])
def test_blockwise_masks_are_exact_unions_of_placed_rectangles(kwargs):
    """Replay every placement: whole rectangles, inside the grid, shapes allowed by the law at the
    remainder of that moment, each adding between 1 and the remainder tokens; union = mask."""
    gen = BlockwiseMaskGenerator(**kwargs)
    mask, boxes = gen.sample_with_boxes(128, generator=seeded(11))
    assert torch.equal(mask, gen(128, generator=seeded(11)))
    assert torch.equal(paint(boxes), mask)
    top, left, h, w = boxes.unbind(-1)
    placed = h > 0
    assert ((top + h <= H) & (left + w <= W) & (top >= 0) & (left >= 0)).all()
    covered = torch.zeros_like(mask)
    for step in range(boxes.shape[1]):
        remaining = gen.num_masked - covered.sum(1)
        box = boxes[:, step]
        shape_index = box[:, 2] * (W + 1) + box[:, 3]
        law = gen.shape_probs[remaining, shape_index]
        now = placed[:, step]
        assert (law[now] > 0).all()
        after = covered | paint(box[:, None])
        gain = after.sum(1) - covered.sum(1)
        assert ((gain[now] >= 1) & (gain[now] <= remaining[now])).all()
        covered = after
    assert torch.equal(covered, mask)
    assert placed.sum(1).float().mean() < gen.num_masked / 4  # blocks, not scattered tokens


def test_blockwise_shape_law_matches_beit_sampling():
    """The tabulated law at the full remainder equals BEiT's draw (area ~ U[min, max], log-uniform
    aspect, rounded sides, retried until it fits), estimated by Monte Carlo."""
    gen = BlockwiseMaskGenerator(0.6)
    rng = np.random.default_rng(0)
    r = gen.num_masked
    area = rng.uniform(4, r, 400_000)
    aspect = np.exp(rng.uniform(math.log(0.3), math.log(1 / 0.3), area.size))
    h = np.maximum(np.round(np.sqrt(area * aspect)), 1).astype(int)
    w = np.maximum(np.round(np.sqrt(area / aspect)), 1).astype(int)
    fits = (h <= H) & (w <= W) & (h * w <= r)
    empirical = np.bincount(h[fits] * (W + 1) + w[fits], minlength=(H + 1) * (W + 1)) / fits.sum()
    total_variation = 0.5 * np.abs(empirical - gen.shape_probs[r].numpy()).sum()
    assert total_variation < 0.02
    small = gen.shape_probs[3]  # below min_num_patches the area is the remainder: 1x3 or 3x1 (or 1x2/2x1)
    areas = shape_grid((H, W)).prod(1)
    assert set(areas[small > 0].tolist()) <= {2, 3} and small.sum() == pytest.approx(1.0)


def test_span_masks_are_whole_columns_with_clipped_geometric_lengths():
    gen = SpanMaskGenerator(0.5, p=0.3, max_span=6)
    mask, boxes = gen.sample_with_boxes(400, generator=seeded(2))
    grid = mask.view(-1, H, W)
    assert torch.equal(grid.all(1), grid.any(1))  # every column fully masked or fully visible
    assert grid.all(1).sum(1).tolist() == [16] * 400
    placed = boxes[..., 2] > 0
    assert (boxes[..., 2][placed] == H).all() and (boxes[..., 3][placed] <= 6).all()
    columns = 16  # law at the full remainder: Geometric(0.3) clipped to [1, 6]
    law = gen.shape_probs[columns * H].view(H + 1, W + 1)[H, :8]
    geometric = [0.0] + [0.3 * 0.7**(k - 1) for k in range(1, 6)] + [0.7**5, 0.0]
    torch.testing.assert_close(law, torch.tensor(geometric, dtype=torch.float64))


def test_mixture_proportions_over_10000_samples_and_strategy_signatures():
    gen = MixedMaskGenerator(probs=[0.5, 0.3, 0.2])
    mask, choice = gen.sample_with_choice(10_000, generator=seeded(0))
    freq = torch.bincount(choice, minlength=3).double() / 10_000
    assert torch.allclose(freq, torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64), atol=0.02)
    assert mask.sum(1).eq(192).all()
    grid = mask.view(-1, H, W)
    whole_columns = grid.all(1).eq(grid.any(1)).all(1)
    assert whole_columns[choice == 2].all()
    assert whole_columns[choice == 0].float().mean() < 0.01  # random patches are scattered
    assert torch.equal(mask, gen(10_000, generator=seeded(0)))


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
    mask, choice = gen.sample_with_choice(50, generator=seeded(1))
    assert choice.eq(1).all() and mask.view(-1, H, W).all(1).sum(1).eq(16).all()


def test_build_and_registries():
    assert isinstance(build_mask_generator(dict(type='SpanMaskGenerator', ratio=0.75)), SpanMaskGenerator)
    instance = BlockwiseMaskGenerator()
    assert build_mask_generator(instance) is instance
    assert build_mask_generator(dict(type=RandomPatchMaskGenerator)).num_masked == 192
    with pytest.raises(KeyError, match='known'):
        build_mask_generator(dict(type='Nope'))
    from mmpretrain.registry import MODELS
    assert isinstance(MODELS.build(dict(type='MixedMaskGenerator')), MixedMaskGenerator)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='ratio'):
        RandomPatchMaskGenerator(1.5)
    with pytest.raises(ValueError, match='width'):
        BlockwiseMaskGenerator(grid_size=(4, 64))
    with pytest.raises(ValueError, match='aspect'):
        BlockwiseMaskGenerator(aspect=(-1, 2))
    with pytest.raises(ValueError, match='p must'):
        SpanMaskGenerator(p=1.0)


def test_masks_are_drawn_on_the_generator_device_and_moved():
    for cls in MASK_GENERATORS.values():
        gen = cls()
        moved = gen(4, device='meta', generator=seeded(0))
        assert moved.device.type == 'meta' and moved.shape == (4, H * W)
    mask, boxes = BlockwiseMaskGenerator().sample_with_boxes(4, device='meta', generator=seeded(0))
    assert mask.device.type == boxes.device.type == 'meta'


def test_edge_ratios_and_custom_grid():
    assert not BlockwiseMaskGenerator(0.0)(4).any()
    assert SpanMaskGenerator(1.0)(4).all()
    gen = BlockwiseMaskGenerator(0.5, grid_size=(4, 16))
    mask, boxes = gen.sample_with_boxes(64, generator=seeded(0))
    assert mask.shape == (64, 64) and mask.sum(1).eq(32).all()


def test_rectangle_masks_ignore_earlier_calls_and_handle_any_width():
    """Lookup tables are shared between calls (a batch of one must not write into them), and widths
    that are not a multiple of 16 (rows held as padded 16-column pieces) give exact unions of boxes."""
    for gen in (BlockwiseMaskGenerator(0.6), SpanMaskGenerator(0.5)):
        first = gen(8, generator=seeded(0))
        gen(1, generator=seeded(1))
        assert torch.equal(gen(8, generator=seeded(0)), first)
    for gen in (BlockwiseMaskGenerator(0.7, grid_size=(5, 20)), SpanMaskGenerator(0.5, grid_size=(3, 47))):
        mask, boxes = gen.sample_with_boxes(64, generator=seeded(2))
        top, left, h, w = boxes.unbind(-1)
        assert ((top + h <= gen.grid_size[0]) & (left + w <= gen.grid_size[1])).all()
        assert mask.sum(1).eq(gen.num_masked).all() and torch.equal(paint(boxes, gen.grid_size), mask)
