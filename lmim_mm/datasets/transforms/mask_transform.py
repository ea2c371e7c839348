"""Token masks drawn in the data pipeline, as mmpretrain's ``BEiTMaskGenerator`` / ``SimMIMMaskGenerator``: a
32 x 128 image in 4 x 4 patches gives a grid of 8 x 32 tokens, token ``r * W + c`` at row ``r``, column ``c``.
Every generator is a transform writing ``results['mask']``, bool (H * W,), True = masked, which mmpretrain's
``PackInputs`` moves to ``data_samples[i].mask``; counts follow MAE's rule (:func:`num_kept`), so a batch stacks.
Masks are drawn with numpy, ``buffer_size`` at a time, from a seed taken from numpy's global RNG (mmengine seeds
it per dataloader worker); a buffer filled before the workers were forked is discarded."""
import math
import os
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from lmim_mm.utils.options import check_number


def num_kept(units: int, ratio: float, owner: str) -> int:
    """MAE's count of kept units (tokens, or columns): ``int(units * (1 - ratio))`` (0.75 -> 192 of 256 tokens,
    0.8 -> 205 as in the authors' fixture); a ``ratio`` of ``owner`` out of [0, 1], or masking no unit (a NaN loss)
    or all, raises ``ValueError``."""
    ratio = check_number(owner, 'ratio', ratio, 0.0, 1.0)
    kept = int(units * (1 - ratio))
    if not 0 < kept < units:
        raise ValueError(f'{owner}: ratio={ratio} masks {units - kept} of {units} units; it must mask at least '
                         f'one and leave at least one visible')
    return kept


class BaseMaskGenerator(BaseTransform):
    """One mask per sample with ``num_masked`` True values; subclasses implement :meth:`draw`.

    Args:
        ratio: Fraction of tokens to mask.
        grid_size: Token grid (H, W) = image size / patch size of the backbone.
        buffer_size: Masks drawn at a time.
    """

    def __init__(self, ratio: float = 0.75, grid_size: Sequence[int] = (8, 32), buffer_size: int = 256) -> None:
        if len(grid_size) != 2 or min(grid_size) < 1 or buffer_size < 1:
            raise ValueError(f'{type(self).__name__}: grid_size must be two positive ints and buffer_size '
                             f'positive, got {grid_size} and {buffer_size}')
        self.ratio = float(ratio)
        self.grid_size: Tuple[int, int] = (int(grid_size[0]), int(grid_size[1]))
        self.num_tokens = self.grid_size[0] * self.grid_size[1]
        self.num_masked = self.num_tokens - num_kept(self.num_tokens, ratio, type(self).__name__)
        self.buffer_size = buffer_size
        self._buffer = np.zeros((0, self.num_tokens), dtype=bool)
        self._next, self._pid = 0, os.getpid()

    def draw(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``num`` masks: bool (num, H * W), True = masked, ``num_masked`` True per row."""
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        if self._next == len(self._buffer) or self._pid != os.getpid():
            rng = np.random.default_rng(np.random.randint(2**31))
            self._buffer, self._next, self._pid = self.draw(self.buffer_size, rng), 0, os.getpid()
        results['mask'] = self._buffer[self._next].copy()
        self._next += 1
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ratio={self.ratio}, grid_size={self.grid_size}, num_masked={self.num_masked})'


@TRANSFORMS.register_module()
class RandomPatchMaskGenerator(BaseMaskGenerator):
    """MAE random patch masking: the tokens of the :func:`num_kept` smallest of uniform noise stay visible. Arguments
    as :class:`BaseMaskGenerator` (``ratio``: MAE 0.75, LMIM 0.8)."""

    def draw(self, num: int, rng: np.random.Generator) -> np.ndarray:
        noise, keep = rng.random((num, self.num_tokens)), self.num_tokens - self.num_masked
        return noise > np.partition(noise, keep - 1, axis=1)[:, keep - 1:keep]


class RectangleMaskGenerator(BaseMaskGenerator):
    """Masks made of axis-aligned rectangles, one per unfinished sample and round: a sample with ``r`` tokens still to
    mask draws a shape from :meth:`shapes`, an unmasked anchor token uniformly, and places the rectangle around the
    anchor (an offset inside the rectangle drawn uniformly, then shifted into the grid), so every rectangle adds at
    least one token. Of more than ``r`` new tokens the first ``r`` in column-major order are kept, which cuts only a
    sample's last rectangle (none for span masking) and makes the count exact. Finished samples leave the batch."""

    def shapes(self, remaining: np.ndarray, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        """Heights and widths (int arrays, within the grid) for samples with ``remaining`` tokens to mask."""
        raise NotImplementedError

    def draw(self, num: int, rng: np.random.Generator) -> np.ndarray:
        height, width = self.grid_size
        rows, cols = np.arange(height)[:, None], np.arange(width)
        out = np.empty((num, self.num_tokens), dtype=bool)
        mask = np.zeros((num, height, width), dtype=bool)  # of the unfinished samples, ``index``
        remaining, index = np.full(num, self.num_masked), np.arange(num)
        while index.size:
            h, w = self.shapes(remaining, rng)
            free = ~mask.reshape(index.size, -1)
            k = (rng.random(index.size) * free.sum(1)).astype(int)  # the anchor is the k-th free token
            anchor = (free.cumsum(1, dtype=np.int32) > k[:, None]).argmax(1)
            top = np.clip(anchor // width - rng.integers(0, h), 0, height - h)[:, None, None]
            left = np.clip(anchor % width - rng.integers(0, w), 0, width - w)[:, None, None]
            new = (rows >= top) & (rows < top + h[:, None, None]) & (cols >= left) & (cols < left + w[:, None, None])
            new &= free.reshape(new.shape)
            gain = new.sum((1, 2))
            over = np.flatnonzero(gain > remaining)  # keep the first new tokens in column-major order
            order = new[over].transpose(0, 2, 1).reshape(over.size, self.num_tokens).cumsum(1, dtype=np.int32)
            new[over] &= order.reshape(over.size, width, height).transpose(0, 2, 1) <= remaining[over, None, None]
            mask |= new
            remaining = remaining - np.minimum(gain, remaining)
            done = remaining == 0
            out[index[done]] = mask[done].reshape(-1, self.num_tokens)
            index, mask, remaining = index[~done], mask[~done], remaining[~done]
        return out


@TRANSFORMS.register_module()
class BlockwiseMaskGenerator(RectangleMaskGenerator):
    """BEiT blockwise masking on the text token grid (MMS; LMIM's block-masking ablation), placed as by
    :class:`RectangleMaskGenerator`, in BEiT's shapes: target area uniform in
    ``[min(min_num_patches, r), min(max_num_patches, r)]`` for ``r`` tokens still to mask, aspect ratio ``h / w``
    log-uniform in ``aspect``, ``h = round(sqrt(area * aspect))``, ``w = round(sqrt(area / aspect))``, clipped to
    the grid (BEiT retries shapes that do not fit instead).

    Args:
        ratio: Masking ratio (MMS and the LMIM ablation: 0.6).
        min_num_patches, max_num_patches: Target area bounds of a rectangle; ``max_num_patches=None``: ``num_masked``.
        aspect: (min, max) aspect ratio ``h / w``; a single float ``a`` means ``(a, 1 / a)``.
        grid_size, buffer_size: As in :class:`BaseMaskGenerator`.
    """

    def __init__(self, ratio: float = 0.6, min_num_patches: int = 4, max_num_patches: Optional[int] = None,
                 aspect: Union[float, Sequence[float]] = (0.3, 1 / 0.3), grid_size: Sequence[int] = (8, 32),
                 buffer_size: int = 256) -> None:
        super().__init__(ratio, grid_size, buffer_size)
        lo, hi = sorted((aspect, 1 / aspect) if isinstance(aspect, (int, float)) else (float(a) for a in aspect))
        if lo <= 0:
            raise ValueError(f'BlockwiseMaskGenerator: aspect ratios must be positive, got {aspect}')
        self.min_num_patches = int(min_num_patches)
        self.max_num_patches = self.num_masked if max_num_patches is None else int(max_num_patches)
        if not 1 <= self.min_num_patches <= self.max_num_patches:
            raise ValueError(f'BlockwiseMaskGenerator: need 1 <= min_num_patches <= max_num_patches, '
                             f'got {min_num_patches} and {self.max_num_patches}')
        self.log_aspect = (math.log(lo), math.log(hi))

    def shapes(self, remaining: np.ndarray, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        area = rng.uniform(np.minimum(self.min_num_patches, remaining), np.minimum(self.max_num_patches, remaining))
        root_aspect = np.exp(0.5 * rng.uniform(*self.log_aspect, remaining.size))
        h = np.clip(np.rint(np.sqrt(area) * root_aspect), 1, self.grid_size[0]).astype(int)
        w = np.clip(np.rint(np.sqrt(area) / root_aspect), 1, self.grid_size[1]).astype(int)
        return h, w


@TRANSFORMS.register_module()
class SpanMaskGenerator(RectangleMaskGenerator):
    """Span masking (MMS): runs of whole columns (all H rows), so whole characters disappear, counted in columns:
    ``num_masked = (W - int(W * (1 - ratio))) * H`` (0.5 -> 16 of 32 columns = 128 tokens; 0.75 -> 24 columns = 192
    tokens, equal to the patch count at that ratio). Span lengths follow SpanBERT: ``Geometric(p)`` on {1, 2, ...}
    clipped to ``[min(min_span, c), min(max_span, c)]`` for ``c`` columns still to mask, so the count is exact;
    spans may touch or overlap earlier ones.

    Args:
        ratio: Fraction of columns to mask (MMS default 0.5).
        p: Success probability of the geometric length law (mean ``1 / p`` columns before clipping).
        min_span, max_span: Shortest and longest span in columns; ``max_span=None``: the number of masked columns.
        grid_size, buffer_size: As in :class:`BaseMaskGenerator`.
    """

    def __init__(self, ratio: float = 0.5, p: float = 0.2, min_span: int = 1, max_span: Optional[int] = None,
                 grid_size: Sequence[int] = (8, 32), buffer_size: int = 256) -> None:
        super().__init__(ratio, grid_size, buffer_size)
        height, width = self.grid_size
        self.num_masked = (width - num_kept(width, ratio, type(self).__name__)) * height
        if not 0.0 < p < 1.0:
            raise ValueError(f'SpanMaskGenerator: p must be in (0, 1), got {p}')
        self.p = float(p)
        self.min_span = int(min_span)
        self.max_span = self.num_masked // height if max_span is None else int(max_span)
        if not 1 <= self.min_span <= self.max_span:
            raise ValueError(f'SpanMaskGenerator: need 1 <= min_span <= max_span, got {min_span} and {max_span}')

    def shapes(self, remaining: np.ndarray, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        columns = remaining // self.grid_size[0]
        length = np.clip(rng.geometric(self.p, remaining.size), np.minimum(self.min_span, columns),
                         np.minimum(self.max_span, columns))
        return np.full_like(length, self.grid_size[0]), length


@TRANSFORMS.register_module()
class MixedMaskGenerator(BaseMaskGenerator):
    """MMS multiple masking strategies: each sample's mask comes from one member generator.

    The members must agree on the grid and on ``num_masked`` so that a batch mixing strategies stacks; hence one
    ``ratio`` is shared, passed to every member config that does not set its own. The default 0.75 gives 192 of 256
    tokens for all three strategies (span: 24 whole columns); per-strategy ratios whose counts differ (patch 0.75 /
    block 0.6 / span 0.5) raise.

    Args:
        generators: Member configs (dicts with ``type``) or instances; default: random patch, blockwise and span.
        probs: Selection probability of each member (normalised); default uniform.
        ratio, grid_size: For member configs without their own (``ratio=None``: the members' defaults).
        buffer_size: As in :class:`BaseMaskGenerator`.
    """

    def __init__(self, generators: Optional[Sequence[Union[dict, BaseMaskGenerator]]] = None,
                 probs: Optional[Sequence[float]] = None, ratio: Optional[float] = 0.75,
                 grid_size: Sequence[int] = (8, 32), buffer_size: int = 256) -> None:
        if generators is None:
            generators = [dict(type=cls.__name__) for cls in
                          (RandomPatchMaskGenerator, BlockwiseMaskGenerator, SpanMaskGenerator)]
        defaults = dict(grid_size=tuple(grid_size), **({} if ratio is None else dict(ratio=ratio)))
        self.generators = [TRANSFORMS.build({'_scope_': 'mmpretrain', **defaults, **g}) if isinstance(g, dict) else g
                           for g in generators]  # members are mmpretrain transforms whatever the default scope
        if not self.generators or len({(g.grid_size, g.num_masked) for g in self.generators}) != 1:
            raise ValueError('MixedMaskGenerator: needs members that share grid_size and num_masked so batches '
                             f'stack; got {self.generators}. Give them one ratio (e.g. 0.75 for all).')
        probs = [1.0] * len(self.generators) if probs is None else [float(p) for p in probs]
        if len(probs) != len(self.generators) or min(probs) < 0 or sum(probs) <= 0:
            raise ValueError(f'MixedMaskGenerator: need {len(self.generators)} non-negative probs with a positive '
                             f'sum, got {probs}')
        first = self.generators[0]
        super().__init__(first.ratio, first.grid_size, buffer_size)
        self.num_masked = first.num_masked
        self.probs = np.array(probs) / sum(probs)

    def draw(self, num: int, rng: np.random.Generator) -> np.ndarray:
        choice = rng.choice(len(self.generators), size=num, p=self.probs)
        mask = np.empty((num, self.num_tokens), dtype=bool)
        for index, member in enumerate(self.generators):
            mask[choice == index] = member.draw(int((choice == index).sum()), rng)
        return mask

    def __repr__(self) -> str:
        return f'MixedMaskGenerator(generators={self.generators}, probs={self.probs.tolist()})'
