"""Token mask generators for masked image modelling on the token grid of a word image.

A 32 x 128 image cut into 4 x 4 patches gives a grid of 8 rows x 32 columns; token ``r * W + c`` is
row ``r``, column ``c``. Every generator returns a bool tensor (N, H * W) with True = masked
(removed) and exactly ``num_masked`` True values per row, so the visible tokens of a batch stack
(``TextViT.forward_masked(mask=...)``). Counts follow MAE's rule for every strategy: of ``U``
units (tokens, or columns for span masking) ``int(U * (1 - ratio))`` are kept and the rest masked
(ratio 0.75 -> 192 of 256 tokens, 0.8 -> 205 as in the authors' LMIM fixture).

- :class:`RandomPatchMaskGenerator`: MAE random patch masking (METHOD.md sec. 2).
- :class:`BlockwiseMaskGenerator`: BEiT-style rectangles (MMS, LMIM's block ablation; sec. 3-4).
- :class:`SpanMaskGenerator`: runs of whole columns with clipped-geometric lengths (MMS).
- :class:`MixedMaskGenerator`: MMS, a per-sample choice among generators sharing one count.

All randomness comes from ``torch.rand`` / ``torch.randint`` with the optional ``generator`` (which
must live on the device the masks are made on), so a seeded generator or ``torch.manual_seed``
reproduces the masks.
"""
import functools
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Type, Union

import torch

from lmim_mm.registry import register
from lmim_mm.utils.options import check_number

Device = Optional[Union[str, torch.device]]
GridSize = Tuple[int, int]


def num_kept(units: int, ratio: float, owner: str = 'mask generator', name: str = 'ratio',
             partial: bool = False) -> int:
    """MAE's count of kept units: ``int(units * (1 - ratio))``.

    Args:
        units: Number of maskable units (tokens, or columns).
        ratio: Masking ratio in [0, 1].
        owner, name: The class and option that gave ``ratio``, for error messages.
        partial: Also require at least one unit masked and one visible (what training needs: a loss
            over no masked token is NaN, an encoder that sees no token learns nothing).

    Returns:
        Number of units left visible.

    Raises:
        ValueError: naming the option and its allowed range.
    """
    ratio = check_number(owner, name, ratio, 0.0, 1.0)
    kept = int(units * (1 - ratio))
    if partial and not 0 < kept < units:
        raise ValueError(f'{owner}: {name}={ratio} masks {units - kept} of {units} units; it must mask at least '
                         f'one and leave at least one visible')
    return kept


class BaseMaskGenerator:
    """Shared interface: ``mask_generator(batch_size, device, generator) -> bool (N, H * W)``.

    Args:
        ratio: Fraction of tokens to mask.
        grid_size: Token grid (H, W).

    Attributes:
        grid_size: (H, W).
        num_tokens: H * W.
        num_masked: Exact number of True values in every mask row.
    """

    def __init__(self, ratio: float, grid_size: Sequence[int] = (8, 32)) -> None:
        if len(grid_size) != 2 or min(grid_size) < 1:
            raise ValueError(f'{type(self).__name__}: grid_size must be two positive ints, got {grid_size}')
        self.ratio = float(ratio)
        self.grid_size: GridSize = (int(grid_size[0]), int(grid_size[1]))
        self.num_tokens = self.grid_size[0] * self.grid_size[1]
        self.num_masked = self.num_tokens - num_kept(self.num_tokens, self.ratio, type(self).__name__)

    def __call__(self, batch_size: int, device: Device = None,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw masks.

        Args:
            batch_size: Number of masks N.
            device: Device of the returned masks; default: where they are drawn.
            generator: Random generator for reproducible masks; they are drawn on its device (e.g.
                a CPU generator for a CUDA batch draws on the CPU), else on ``device``, else on the CPU.

        Returns:
            Bool tensor (N, H * W), True = masked, ``num_masked`` True per row.
        """
        return self._sample(batch_size, device, generator, details=False)[0]

    def _sample(self, batch_size: int, device: Device, generator: Optional[torch.Generator],
                details: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """:meth:`_draw` on the generator's device (else ``device``, else CPU), results moved to ``device``."""
        if generator is not None:
            draw_device = generator.device
        else:
            draw_device = torch.device('cpu' if device is None else device)
        mask, extra = self._draw(batch_size, draw_device, generator, details)
        if device is None:
            return mask, extra
        return mask.to(device), None if extra is None else extra.to(device)

    def _draw(self, batch_size: int, device: torch.device, generator: Optional[torch.Generator],
              details: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Masks (N, H * W) on ``device`` and, with ``details``, the generator's extra output, else None."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(ratio={self.ratio}, grid_size={self.grid_size}, '
                f'num_masked={self.num_masked})')


@register('MODELS')
class RandomPatchMaskGenerator(BaseMaskGenerator):
    """MAE random patch masking: per sample, the tokens with the largest uniform noise are masked.

    The kept tokens are the ``L - num_masked`` smallest noise values, i.e. the first entries of
    MAE's ``argsort(noise)`` (``TextViT.mask_tokens`` draws the same noise), found with ``topk``.

    Args:
        ratio: Masking ratio (MAE 0.75, LMIM 0.8).
        grid_size: Token grid (H, W).
    """

    def __init__(self, ratio: float = 0.75, grid_size: Sequence[int] = (8, 32)) -> None:
        super().__init__(ratio, grid_size)

    def _draw(self, batch_size: int, device: torch.device, generator: Optional[torch.Generator],
              details: bool) -> Tuple[torch.Tensor, None]:
        noise = torch.rand(batch_size, self.num_tokens, device=device, generator=generator)
        num_keep = self.num_tokens - self.num_masked
        if num_keep <= self.num_masked:
            kept = noise.topk(num_keep, dim=1, largest=False, sorted=False).indices
            return torch.ones_like(noise, dtype=torch.bool).scatter_(1, kept, False), None
        removed = noise.topk(self.num_masked, dim=1, largest=True, sorted=False).indices
        return torch.zeros_like(noise, dtype=torch.bool).scatter_(1, removed, True), None


def shape_grid(grid_size: GridSize) -> torch.Tensor:
    """All rectangle shapes on a grid, int64 (S, 2) ``(h, w)``, ``S = (H + 1) * (W + 1)``.

    Shape index ``h * (W + 1) + w``; index 0 is the empty shape (0, 0).
    """
    height, width = grid_size
    h, w = torch.meshgrid(torch.arange(height + 1), torch.arange(width + 1), indexing='ij')
    return torch.stack([h.flatten(), w.flatten()], dim=1)


#: Resolution of the integer shape CDFs: probabilities are multiples of 2**-40.
CDF_BITS = 40


def _shape_cdf(probs: torch.Tensor) -> torch.Tensor:
    """Integer CDF of shape laws (G, R, S) for ``searchsorted``: int64 (2, M), values and shape indices.

    Row ``q = g * R + r`` of the laws gives the values ``(q + cdf) * 2**CDF_BITS``, one per shape, so
    the query ``q * 2**CDF_BITS + v`` with ``v`` uniform in [0, 2**CDF_BITS) lands in that row and
    ``searchsorted(..., right=True)`` picks each shape with its probability. Of this increasing
    sequence only the values above their predecessor are kept (shapes of zero probability are never
    picked), so the sequence is short; the second row holds their shape indices.
    """
    cdf = probs.cumsum(-1) / probs.sum(-1, keepdim=True)
    scaled = (cdf * 2**CDF_BITS).round().long()
    scaled[..., -1] = 2**CDF_BITS
    rows = torch.arange(probs.shape[0] * probs.shape[1]).view(probs.shape[:2] + (1, ))
    values = (scaled + rows * 2**CDF_BITS).flatten()
    kept = values > torch.cat([values.new_zeros(1), values[:-1]])
    return torch.stack([values[kept], kept.nonzero().squeeze(1) % probs.shape[-1]])


#: Columns per piece of a grid row: rows are cut into 16-bit pieces, looked up in tables of 2**16 entries.
PIECE_BITS = 16


class GridTables(NamedTuple):
    """Lookup tables of a token grid (H, W) for :func:`place_rectangles`.

    A row is cut into ``P = ceil(W / 16)`` pieces of 16 columns: a mask is int64 (N, H * P), bit
    ``b`` of piece ``r * P + p`` set = token (row ``r``, column ``16 * p + b``) masked, and columns
    past ``W`` are always set. The padded token ``16 * (r * P + p) + b`` is that bit.

    Attributes:
        free_count: (2**16,) unmasked tokens (zero bits) of every piece value.
        top_free: (2**20 + 1,) at ``16 * value + m``, ``1 <= m <=`` its zero bits: the bit of its
            ``m``-th zero bit counted down from bit 15.
        placement: (16 * H * P * S, 4) at ``padded_anchor * S + shape`` (shape index of
            :func:`shape_grid`): for a rectangle that must contain the anchor, the number of starts
            of its rows and of its columns (at least 1; an empty shape starts past the anchor), then
            the ``fields`` keys of the first row start and column start.
        fields: ((H + 1)^2 + (W + 1)^2, H * P) rows first, at ``h * (H + 1) + top``: 0xFFFF in the
            pieces of rows ``top .. top + h - 1``; then columns, at ``(H + 1)^2 + w * (W + 1) + left``:
            the bits of columns ``left .. left + w - 1`` in the pieces of every row. A rectangle is
            the AND of its row and column fields.
        key_offsets: ``(0, (H + 1)^2)``, where the row and column fields begin.
        strides: ``(H + 1, W + 1)``.
        padding: (H * P,) the empty mask: the bits of columns ``c >= W`` set.
        piece_bits: ``1 << arange(16)``.
    """
    free_count: torch.Tensor
    top_free: torch.Tensor
    placement: torch.Tensor
    fields: torch.Tensor
    key_offsets: torch.Tensor
    strides: torch.Tensor
    padding: torch.Tensor
    piece_bits: torch.Tensor


@functools.lru_cache(maxsize=None)
def grid_tables(grid_size: GridSize, device: torch.device) -> GridTables:
    """The :class:`GridTables` of a grid on ``device`` (cached)."""
    height, width = grid_size
    pieces = -(-width // PIECE_BITS)
    piece_bits = 1 << torch.arange(PIECE_BITS)
    zero = (torch.arange(2**PIECE_BITS).unsqueeze(1) & piece_bits) == 0
    from_top = zero.flip(1).cumsum(1)  # zero bits among bits 15 .. 15 - i
    rank = torch.arange(1, PIECE_BITS + 1).expand(2**PIECE_BITS, -1).contiguous()
    top_free = (PIECE_BITS - 1 - torch.searchsorted(from_top, rank)).clamp(min=0)  # ranks past the zeros: unused
    h, top = shape_grid((height, height)).unbind(1)
    rows = torch.arange(height)
    covered = (rows >= top.unsqueeze(1)) & (rows < (top + h).unsqueeze(1))
    w, left = shape_grid((width, width)).unbind(1)
    columns = ((((1 << w) - 1) << left).unsqueeze(1) >> PIECE_BITS * torch.arange(pieces)) & (2**PIECE_BITS - 1)
    padding = [(2**(PIECE_BITS * pieces) - 2**width) >> (PIECE_BITS * p) & (2**PIECE_BITS - 1) for p in range(pieces)]
    tables = GridTables(
        free_count=zero.sum(1), top_free=torch.cat([top_free.new_zeros(1), top_free.flatten()]),
        placement=_placement_table(grid_size, pieces),
        fields=torch.cat([(covered.long() * (2**PIECE_BITS - 1)).repeat_interleave(pieces, dim=1),
                          columns.repeat(1, height)]),
        key_offsets=torch.tensor([0, (height + 1)**2]), strides=torch.tensor([height + 1, width + 1]),
        padding=torch.tensor(padding).repeat(height), piece_bits=piece_bits)
    return GridTables(*(t.to(device) for t in tables))


def _placement_table(grid_size: GridSize, pieces: int) -> torch.Tensor:
    """The ``placement`` table of :class:`GridTables` for a grid whose rows have ``pieces`` pieces."""
    height, width = grid_size
    padded = torch.arange(height * pieces * PIECE_BITS)
    # padded columns past W are never anchors (always masked); clamped to stay valid
    anchors = (padded // (pieces * PIECE_BITS), (padded % (pieces * PIECE_BITS)).clamp(max=width - 1))
    num_starts, first = [], []
    for anchor, size, length, offset in zip(anchors, shape_grid(grid_size).unbind(1), grid_size,
                                            (0, (height + 1)**2)):
        lowest = (anchor.unsqueeze(1) - size + 1).clamp(min=0)
        num_starts.append((torch.minimum(anchor.unsqueeze(1), length - size) - lowest + 1).clamp(min=1))
        first.append(offset + size * (length + 1) + lowest)
    return torch.stack(num_starts + first, dim=-1).view(-1, 4)


def place_rectangles(shape_cdf: torch.Tensor, table_rows: torch.Tensor, num_masked: int, grid_size: GridSize,
                     generator: Optional[torch.Generator] = None,
                     record: bool = False) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Masks made of whole rectangles, one rectangle per unfinished sample and round.

    Each round, a sample with ``r`` tokens still to mask draws a shape from row ``table_row + r``
    of the shape laws (every law gives zero probability to shapes with more than ``r`` tokens),
    draws an unmasked token uniformly as anchor and places the rectangle uniformly among the grid
    positions that contain the anchor. Every rectangle thus adds between 1 and ``r`` tokens (overlaps
    with earlier rectangles allowed, none trimmed) and the counts end exact. Random integers are
    reduced modulo the number of choices (bias below 2**-50): the anchor is the ``k``-th unmasked
    token in row-major order for ``k`` uniform. Masks are held as 16-bit pieces of rows
    (:class:`GridTables`), so counting the unmasked tokens, finding the anchor, the placements and
    the rectangle's bits are table lookups; finished samples leave the batch, so a round is about 25
    ops on (N, H * P) tensors whatever the rectangle sizes; the number of rounds is the number of
    rectangles of the sample needing most.

    Args:
        shape_cdf: Shape laws from :func:`_shape_cdf`, rows ``0 .. num_masked`` per law.
        table_rows: Int64 (N,), first row of each sample's law (``g * (num_masked + 1)``).
        num_masked: Tokens to mask per sample.
        grid_size: Token grid (H, W).
        generator: Random generator on ``table_rows.device``.
        record: Also return the rectangles.

    Returns:
        mask: Bool (N, H * W), True = masked.
        boxes: With ``record``, int64 (N, R, 4) rows ``(top, left, height, width)`` in placement
            order, height 0 for empty slots; else None.
    """
    height, width = grid_size
    device = table_rows.device
    n = table_rows.shape[0]
    if num_masked == height * width:  # the whole grid (finished samples would have no free anchor)
        boxes = torch.tensor([[[0, 0, height, width]]], device=device).expand(n, 1, 4)
        return torch.ones(n, num_masked, dtype=torch.bool, device=device), boxes.clone() if record else None
    t = grid_tables(grid_size, device)
    num_shapes = (height + 1) * (width + 1)
    cdf, shape_index = shape_cdf.to(device)
    with torch.inference_mode():  # no autograd bookkeeping in the ~25 small ops of a round
        out = t.padding.repeat(n, 1)
        state, index, pieces = out.clone(), torch.arange(n, device=device), out.shape[1]
        law_base = (table_rows + num_masked - height * width).unsqueeze(1)  # + unmasked tokens = row of the law
        placed: List[Tuple[torch.Tensor, torch.Tensor]] = []
        for _ in range(num_masked + 1):  # every round adds >= 1 token to each unfinished sample
            cumulative = t.free_count.index_select(0, state.view(-1)).view(-1, pieces).cumsum(1)
            free = cumulative[:, -1:]
            unfinished = free > height * width - num_masked
            active = int(unfinished.count_nonzero())
            if 2 * active <= index.numel():  # finished samples leave the batch (they draw empty shapes before)
                out.index_copy_(0, index, state)
                if not active:
                    break
                keep = unfinished.view(-1).nonzero().squeeze(1)
                index, state, cumulative, law_base = (x.index_select(0, keep) for x in (index, state, cumulative,
                                                                                       law_base))
                free = cumulative[:, -1:]
            draws = torch.randint(2**62, (index.numel(), 4), device=device, generator=generator)
            query = torch.add(draws[:, :1] >> (62 - CDF_BITS), law_base + free, alpha=2**CDF_BITS)
            shape = shape_index.take(torch.searchsorted(cdf, query, right=True))
            k = draws[:, 1:2] % free
            piece = torch.searchsorted(cumulative, k, right=True)
            # the k-th unmasked token is the (cumulative - k)-th unmasked one of its piece counted from the top
            bit = t.top_free.take(torch.add(cumulative, state, alpha=PIECE_BITS).gather(1, piece) - k)
            anchor = torch.add(bit, piece, alpha=PIECE_BITS)  # padded token
            place = t.placement.index_select(0, torch.add(shape, anchor, alpha=num_shapes).view(-1))
            key = place[:, 2:] + draws[:, 2:] % place[:, :2]  # fields keys of the row and column starts
            fields = t.fields.index_select(0, key.view(-1)).view(-1, 2, pieces)
            state |= fields[:, 0] & fields[:, 1]
            if record:
                key = key - t.key_offsets
                size = key.div(t.strides, rounding_mode='floor')
                placed.append((index, torch.cat([key % t.strides, size], dim=1) * (size[:, :1] > 0)))
    mask = (out.view(n, height, -1, 1) & t.piece_bits) != 0  # normal tensors again, outside inference mode
    return mask.view(n, height, -1)[:, :, :width].reshape(n, -1), _stack_boxes(placed, n) if record else None


def _stack_boxes(placed: List[Tuple[torch.Tensor, torch.Tensor]], n: int) -> torch.Tensor:
    """(N, R, 4) boxes, zeros for empty slots, from per-round ``(sample indices, boxes)``."""
    if not placed:
        return torch.zeros(n, 0, 4, dtype=torch.long)
    boxes = placed[0][1].new_zeros(n, len(placed), 4)
    for step, (index, box) in enumerate(placed):
        boxes[index, step] = box
    return boxes


def condition_law(weights: torch.Tensor, grid_size: GridSize, unit: GridSize) -> torch.Tensor:
    """Shape laws per remainder from unnormalised weights: only shapes of 1 to ``r`` tokens.

    Args:
        weights: Float64 (R, S), row ``r`` = weights of the shapes of :func:`shape_grid` when ``r``
            tokens remain.
        grid_size: Token grid (H, W).
        unit: Shape given to a remainder whose weights leave no admissible shape.

    Returns:
        Float64 (R, S) probabilities; row 0 (nothing left) is the empty shape.
    """
    area = shape_grid(grid_size).prod(1)
    remainder = torch.arange(weights.shape[0]).unsqueeze(1)
    probs = weights * ((area >= 1) & (area <= remainder))
    probs[(probs.sum(1) == 0) & (remainder.squeeze(1) > 0), unit[0] * (grid_size[1] + 1) + unit[1]] = 1.0
    probs[0, 0] = 1.0
    return probs / probs.sum(1, keepdim=True)


class RectangleMaskGenerator(BaseMaskGenerator):
    """Masks made of whole axis-aligned rectangles placed one per round (:func:`place_rectangles`).

    A subclass gives its shape law, :attr:`shape_probs`: for every remainder ``r`` a distribution
    over the shapes of the grid with 1 to ``r`` tokens (:func:`condition_law`), so no rectangle
    is ever trimmed. Laws are computed once per parameter set and cached.

    Args:
        ratio: Masking ratio.
        grid_size: Token grid (H, W), W <= 62 (the lookup tables of :func:`grid_tables` grow as
            ``H * W * (H + 1) * (W + 1)``: 11 MB for 8 x 32, 18 MB for 8 x 62).
    """

    def __init__(self, ratio: float, grid_size: Sequence[int] = (8, 32)) -> None:
        super().__init__(ratio, grid_size)
        if self.grid_size[1] > 62:
            raise ValueError(f'{type(self).__name__}: grid width must be <= 62, got grid_size {self.grid_size}')

    def _set_law(self, shape_probs: torch.Tensor) -> None:
        """Use ``shape_probs`` (num_masked + 1, S), a :func:`condition_law` result."""
        self.shape_probs = shape_probs
        self._shape_cdf = _shape_cdf(shape_probs.unsqueeze(0))

    def _draw(self, batch_size: int, device: torch.device, generator: Optional[torch.Generator],
              details: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        rows = torch.zeros(batch_size, dtype=torch.long, device=device)
        return place_rectangles(self._shape_cdf, rows, self.num_masked, self.grid_size, generator, record=details)

    def sample_with_boxes(self, batch_size: int, device: Device = None,
                          generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Draw masks and the rectangles they are made of (for tests and visualisation).

        Args:
            batch_size, device, generator: As :meth:`__call__`.

        Returns:
            mask: Bool (N, H * W), as :meth:`__call__` with the same generator state.
            boxes: Int64 (N, R, 4) rows ``(top, left, height, width)`` in placement order; rows of
                height 0 are empty. The union of a sample's boxes is exactly its mask.
        """
        return self._sample(batch_size, device, generator, details=True)


#: Midpoint quadrature of BEiT's shape law: points per unit of area, and over the log aspect ratio.
BLOCK_AREA_POINTS, BLOCK_ASPECT_POINTS = 16, 64


@functools.lru_cache(maxsize=32)
def blockwise_law(grid_size: GridSize, num_masked: int, min_area: int, max_area: int,
                  log_aspect: Tuple[float, float]) -> torch.Tensor:
    """BEiT's block shape law per remainder, tabulated by quadrature (see :class:`BlockwiseMaskGenerator`).

    Returns:
        Float64 (num_masked + 1, S) from :func:`condition_law`.
    """
    t = torch.linspace(*log_aspect, 2 * BLOCK_ASPECT_POINTS + 1, dtype=torch.float64)[1::2]
    # mass of each shape for areas in [k, k + 1), cumulated: below[x] = mass of areas in [0, x)
    area = (torch.arange(max_area * BLOCK_AREA_POINTS, dtype=torch.float64) + 0.5) / BLOCK_AREA_POINTS
    mass = _beit_shape_histogram(grid_size, area.floor().long(), area, t, max_area)
    below = torch.cat([torch.zeros_like(mass[:1]), mass.cumsum(0)])
    exact = torch.arange(max_area + 1)  # shapes at one exact area: the law when the range is a point
    at = _beit_shape_histogram(grid_size, exact, exact.double(), t, max_area + 1)
    remainder = torch.arange(num_masked + 1)
    lo, hi = remainder.clamp(max=min_area), remainder.clamp(max=max_area)
    weights = torch.where((hi > lo).unsqueeze(1), below[hi] - below[lo], at[lo])
    return condition_law(weights, grid_size, (1, 1))


def _beit_shape_histogram(grid_size: GridSize, bins: torch.Tensor, area: torch.Tensor, log_aspect: torch.Tensor,
                          num_bins: int) -> torch.Tensor:
    """Float64 (num_bins, S) counts of BEiT's rounded shapes over areas (A,) in ``bins`` (A,) x aspects (T,).

    ``h = round(sqrt(area * aspect))``, ``w = round(sqrt(area / aspect))``, at least 1; shapes off the
    grid are dropped (BEiT retries until a shape fits).
    """
    height, width = grid_size
    root_area = area.sqrt().unsqueeze(1)
    root_aspect = (0.5 * log_aspect).exp()
    h = (root_area * root_aspect).round().long().clamp(min=1)
    w = (root_area / root_aspect).round().long().clamp(min=1)
    slots = (height + 1) * (width + 1) + 1  # last slot: off the grid
    index = torch.where((h > height) | (w > width), slots - 1, h * (width + 1) + w)
    counts = torch.bincount((bins.unsqueeze(1) * slots + index).flatten(), minlength=num_bins * slots)
    return counts.view(num_bins, slots)[:, :-1].double()


@register('MODELS')
class BlockwiseMaskGenerator(RectangleMaskGenerator):
    """BEiT blockwise masking on the text token grid (MMS; LMIM's block-masking ablation).

    BEiT's shape law: target area uniform in ``[min(min_num_patches, r), min(max_num_patches, r)]``
    for ``r`` tokens still to mask, aspect ratio ``h / w`` log-uniform in ``aspect``,
    ``h = round(sqrt(area * aspect))``, ``w = round(sqrt(area / aspect))`` (at least 1), kept only
    if it fits the grid and has at most ``r`` tokens. Once fewer than ``min_num_patches`` tokens
    remain the area is the remainder, down to 1 x 1, which makes the count exact. The law is
    tabulated once per remainder by midpoint quadrature (16 areas per unit x 64 aspect ratios;
    total variation from the exact law below 0.02). Rectangles may span the full grid height
    (BEiT's ``h < H`` would forbid 8-row blocks on an 8-row grid). Placement: see
    :func:`place_rectangles`.

    Args:
        ratio: Masking ratio (MMS and the LMIM ablation: 0.6).
        min_num_patches: Minimum target area of a rectangle.
        max_num_patches: Maximum target area; None = ``num_masked``.
        aspect: (min, max) aspect ratio ``h / w``; a single float ``a`` means ``(a, 1 / a)``.
        grid_size: Token grid (H, W).
    """

    def __init__(self, ratio: float = 0.6, min_num_patches: int = 4, max_num_patches: Optional[int] = None,
                 aspect: Union[float, Sequence[float]] = (0.3, 1 / 0.3), grid_size: Sequence[int] = (8, 32)) -> None:
        super().__init__(ratio, grid_size)
        if isinstance(aspect, (int, float)):
            aspect = (aspect, 1 / aspect)
        lo, hi = sorted(float(a) for a in aspect)
        if lo <= 0:
            raise ValueError(f'BlockwiseMaskGenerator: aspect ratios must be positive, got {aspect}')
        self.min_num_patches = int(min_num_patches)
        self.max_num_patches = max(self.num_masked, self.min_num_patches) if max_num_patches is None else int(
            max_num_patches)
        if not 1 <= self.min_num_patches <= self.max_num_patches:
            raise ValueError(f'BlockwiseMaskGenerator: need 1 <= min_num_patches <= max_num_patches, '
                             f'got {min_num_patches} and {max_num_patches}')
        self.log_aspect = (math.log(lo), math.log(hi))
        self._set_law(blockwise_law(self.grid_size, self.num_masked, self.min_num_patches, self.max_num_patches,
                                    self.log_aspect))


@functools.lru_cache(maxsize=32)
def span_law(grid_size: GridSize, num_masked: int, p: float, min_span: int, max_span: int) -> torch.Tensor:
    """Clipped-geometric span law per remainder (see :class:`SpanMaskGenerator`).

    Returns:
        Float64 (num_masked + 1, S) from :func:`condition_law`.
    """
    height, width = grid_size
    columns = (torch.arange(num_masked + 1) // height).unsqueeze(1)
    lo, hi = columns.clamp(max=min_span), columns.clamp(max=max_span)
    length = torch.arange(width + 1, dtype=torch.float64)
    q = 1.0 - p
    pmf = p * q**(length - 1)
    pmf = torch.where(length == lo, 1.0 - q**lo, pmf)  # P(L <= lo)
    pmf = torch.where(length == hi, q**(hi - 1), pmf)  # P(L >= hi)
    pmf = torch.where(lo == hi, 1.0, pmf) * ((length >= lo) & (length <= hi))
    weights = torch.zeros(num_masked + 1, height + 1, width + 1, dtype=torch.float64)
    weights[:, height] = pmf
    return condition_law(weights.flatten(1), grid_size, (height, 1))


@register('MODELS')
class SpanMaskGenerator(RectangleMaskGenerator):
    """Span masking: runs of whole columns (all H rows), so whole characters disappear (MMS).

    Counts are in columns: ``num_masked = (W - int(W * (1 - ratio))) * H`` (0.5 -> 16 of 32 columns
    = 128 tokens; 0.75 -> 24 columns = 192 tokens, equal to the patch count at that ratio). Span
    lengths follow SpanBERT: ``Geometric(p)`` on {1, 2, ...} clipped to ``[min_span, max_span]``
    and to the ``c`` columns still to mask (``[min(min_span, c), min(max_span, c)]``, so down to
    one column at the end), which makes the count exact. Spans may touch or overlap earlier ones,
    so masked runs can be longer than one draw. Placement: see :func:`place_rectangles`.

    Args:
        ratio: Fraction of columns to mask (MMS default 0.5).
        p: Success probability of the geometric length law (mean ``1 / p`` columns before clipping).
        min_span: Shortest span in columns.
        max_span: Longest span in columns; None = the number of masked columns.
        grid_size: Token grid (H, W).
    """

    def __init__(self, ratio: float = 0.5, p: float = 0.2, min_span: int = 1, max_span: Optional[int] = None,
                 grid_size: Sequence[int] = (8, 32)) -> None:
        super().__init__(ratio, grid_size)
        height, width = self.grid_size
        self.num_masked_columns = width - num_kept(width, self.ratio, type(self).__name__)
        self.num_masked = self.num_masked_columns * height
        if not 0.0 < p < 1.0:
            raise ValueError(f'SpanMaskGenerator: p must be in (0, 1), got {p}')
        self.p = float(p)
        self.min_span = int(min_span)
        self.max_span = max(self.num_masked_columns, self.min_span) if max_span is None else int(max_span)
        if not 1 <= self.min_span <= self.max_span:
            raise ValueError(f'SpanMaskGenerator: need 1 <= min_span <= max_span, got {min_span} and {max_span}')
        self._set_law(span_law(self.grid_size, self.num_masked, self.p, self.min_span, self.max_span))


@register('MODELS')
class MixedMaskGenerator(BaseMaskGenerator):
    """MMS multiple masking strategies: each sample's mask comes from one member generator.

    The members must agree on the grid and on ``num_masked``, so a batch mixing strategies still
    stacks (the encoder keeps the same number of tokens per sample). Hence one ``ratio`` is shared:
    it is passed to every member config that does not set its own. The default 0.75 gives 192 of 256
    tokens for all three strategies (span: 24 whole columns). Per-strategy ratios are accepted only
    when their counts coincide; the set patch 0.75 / block 0.6 / span 0.5 (192 / 154 / 128 tokens)
    raises, since its masks could not be batched. All rectangle members (blockwise, span) are drawn
    in one :func:`place_rectangles` pass.

    Args:
        generators: Member configs (dicts with ``type``) or instances. Default: random patch,
            blockwise and span masking with their default parameters.
        probs: Selection probability of each member (normalised); default uniform.
        ratio: Ratio for member configs without one; None leaves them at their own defaults.
        grid_size: Grid for member configs without one.
    """

    def __init__(self, generators: Optional[Sequence[Union[dict, BaseMaskGenerator]]] = None,
                 probs: Optional[Sequence[float]] = None, ratio: Optional[float] = 0.75,
                 grid_size: Sequence[int] = (8, 32)) -> None:
        if generators is None:
            generators = [dict(type=name) for name in
                          ('RandomPatchMaskGenerator', 'BlockwiseMaskGenerator', 'SpanMaskGenerator')]
        defaults = dict(grid_size=tuple(grid_size)) if ratio is None else dict(grid_size=tuple(grid_size),
                                                                                 ratio=ratio)
        self.generators = [
            build_mask_generator({**defaults, **g} if isinstance(g, dict) else g) for g in generators
        ]
        if not self.generators:
            raise ValueError('MixedMaskGenerator needs at least one generator')
        if len({(g.grid_size, g.num_masked) for g in self.generators}) != 1:
            raise ValueError('MixedMaskGenerator: members must share grid_size and num_masked so batches stack; '
                             f'got {self.generators}. Give them one ratio (e.g. 0.75 for all).')
        probs = [1.0] * len(self.generators) if probs is None else [float(p) for p in probs]
        if len(probs) != len(self.generators) or min(probs) < 0 or sum(probs) <= 0:
            raise ValueError(f'MixedMaskGenerator: need {len(self.generators)} non-negative probs with a positive '
                             f'sum, got {probs}')
        first = self.generators[0]
        super().__init__(first.ratio, first.grid_size)
        self.num_masked = first.num_masked
        self.probs = torch.tensor(probs, dtype=torch.float64) / sum(probs)
        # rectangle members share one flat table of shape laws; member i's law starts at _table_rows[i]
        self._is_rect = torch.tensor([isinstance(g, RectangleMaskGenerator) for g in self.generators])
        rect_members = [g for g in self.generators if isinstance(g, RectangleMaskGenerator)]
        if rect_members:
            self._shape_cdf = _shape_cdf(torch.stack([g.shape_probs for g in rect_members]))
        self._table_rows = (self._is_rect.long().cumsum(0) - 1).clamp(min=0) * (self.num_masked + 1)

    def sample_with_choice(self, batch_size: int, device: Device = None,
                           generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Draw masks and report which member made each.

        Args:
            batch_size, device, generator: As :meth:`__call__`.

        Returns:
            mask: Bool (N, H * W), as :meth:`__call__` with the same generator state.
            choice: Int64 (N,), index into :attr:`generators`.
        """
        return self._sample(batch_size, device, generator, details=True)

    def _draw(self, batch_size: int, device: torch.device, generator: Optional[torch.Generator],
              details: bool) -> Tuple[torch.Tensor, torch.Tensor]:
        u = torch.rand(batch_size, dtype=torch.float64, device=device, generator=generator)
        choice = torch.searchsorted(self.probs.cumsum(0).to(device), u, right=True).clamp(max=len(self.probs) - 1)
        mask = torch.zeros(batch_size, self.num_tokens, dtype=torch.bool, device=device)
        rect_rows = self._is_rect.to(device)[choice].nonzero().squeeze(1)
        if rect_rows.numel():
            table_rows = self._table_rows.to(device)[choice[rect_rows]]
            mask[rect_rows] = place_rectangles(self._shape_cdf, table_rows, self.num_masked, self.grid_size,
                                               generator)[0]
        for index, member in enumerate(self.generators):
            rows = (choice == index).nonzero().squeeze(1)
            if not self._is_rect[index] and rows.numel():
                mask[rows] = member._draw(rows.numel(), device, generator, False)[0]
        return mask, choice

    def __repr__(self) -> str:
        return f'MixedMaskGenerator(generators={self.generators}, probs={self.probs.tolist()})'


MASK_GENERATORS: Dict[str, Type[BaseMaskGenerator]] = {
    cls.__name__: cls
    for cls in (RandomPatchMaskGenerator, BlockwiseMaskGenerator, SpanMaskGenerator, MixedMaskGenerator)
}


def build_mask_generator(cfg: Union[dict, BaseMaskGenerator]) -> BaseMaskGenerator:
    """Build a mask generator from a config (works with torch + mmengine only).

    Args:
        cfg: A generator instance (returned as is) or a dict whose ``type`` is a class name of
            :data:`MASK_GENERATORS` or a :class:`BaseMaskGenerator` subclass; other keys are
            constructor arguments.

    Returns:
        The generator.
    """
    if isinstance(cfg, BaseMaskGenerator):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'mask generator config must be a dict with a "type" key or a generator, got {cfg!r}')
    args = dict(cfg)
    kind = args.pop('type')
    if isinstance(kind, type) and issubclass(kind, BaseMaskGenerator):
        return kind(**args)
    if kind not in MASK_GENERATORS:
        raise KeyError(f'unknown mask generator type {kind!r}; known: {sorted(MASK_GENERATORS)}')
    return MASK_GENERATORS[kind](**args)
