"""Fixed 2-D sin-cos position tables (MAE's layout) for text-shaped token grids."""
from typing import Literal, Tuple

import torch

PosGrid = Literal['true', 'legacy']


def sincos_1d(embed_dim: int, positions: torch.Tensor) -> torch.Tensor:
    """1-D sin-cos embedding of positions, as MAE's ``get_1d_sincos_pos_embed_from_grid``.

    Args:
        embed_dim: Output dimension (even).
        positions: Positions, shape (M,).

    Returns:
        float64 tensor of shape (M, embed_dim): ``[sin(p * w_k), cos(p * w_k)]``.
    """
    if embed_dim % 2:
        raise ValueError(f'embed_dim must be even, got {embed_dim}')
    omega = torch.arange(embed_dim // 2, dtype=torch.float64) / (embed_dim / 2.0)
    omega = 1.0 / 10000**omega
    angles = positions.to(torch.float64)[:, None] * omega[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def grid_coordinates(num_tokens: int, grid_size: Tuple[int, int], pos_grid: PosGrid) -> Tuple[torch.Tensor, torch.Tensor]:
    """Row and column assigned to each of ``num_tokens`` row-major tokens.

    Args:
        num_tokens: Number of patch tokens (H' * W').
        grid_size: The true token grid (rows, columns), e.g. (8, 32).
        pos_grid: ``'true'`` gives token ``r * W' + c`` row ``r`` and column ``c``. ``'legacy'``
            reproduces the authors' (and MAERec's) table built for a square grid of side
            ``int(sqrt(num_tokens))`` and applied row-major, i.e. token ``t`` gets row ``t // 16``
            and column ``t % 16`` for 256 tokens.

    Returns:
        rows, cols: int64 tensors of shape (num_tokens,).
    """
    tokens = torch.arange(num_tokens)
    if pos_grid == 'true':
        width = grid_size[1]
    elif pos_grid == 'legacy':
        width = int(num_tokens**0.5)
        if width * width != num_tokens:
            raise ValueError(f"pos_grid='legacy' needs a square number of tokens, got {num_tokens}")
    else:
        raise ValueError(f"pos_grid must be 'true' or 'legacy', got {pos_grid!r}")
    return tokens // width, tokens % width


def sincos_2d_table(embed_dim: int, grid_size: Tuple[int, int], pos_grid: PosGrid = 'true',
                    cls_token: bool = True) -> torch.Tensor:
    """2-D sin-cos position table in MAE's channel layout.

    The first ``embed_dim / 2`` channels encode the column, the second half the row (MAE's
    ``meshgrid(w, h)`` order), so ``pos_grid='legacy'`` equals the authors' table bit for bit.

    Args:
        embed_dim: Channels (divisible by 4).
        grid_size: True token grid (rows, columns).
        pos_grid: ``'true'`` (default) or ``'legacy'``, see :func:`grid_coordinates`.
        cls_token: Prepend a zero row for the [cls] token.

    Returns:
        float32 tensor of shape (1, [1 +] rows * cols, embed_dim).
    """
    if embed_dim % 4:
        raise ValueError(f'embed_dim must be divisible by 4, got {embed_dim}')
    rows, cols = grid_coordinates(grid_size[0] * grid_size[1], grid_size, pos_grid)
    table = torch.cat([sincos_1d(embed_dim // 2, cols), sincos_1d(embed_dim // 2, rows)], dim=1)
    if cls_token:
        table = torch.cat([torch.zeros(1, embed_dim, dtype=table.dtype), table], dim=0)
    return table.float().unsqueeze(0)
