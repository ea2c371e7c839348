"""TextViT: mmpretrain's ``VisionTransformer`` shaped for 32x128 word images, with MAE-style masking."""
from typing import List, Literal, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import constant_init, xavier_init
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import LayerNorm2d
from mmpretrain.registry import MODELS

from lmim_mm.utils.checkpoint import load_pretrained

PosGrid = Literal['true', 'legacy']


def sincos_2d_table(embed_dim: int, grid_size: Sequence[int], pos_grid: PosGrid = 'true') -> torch.Tensor:
    """Returns MAE's fixed 2-D sin-cos table, float32 (1, 1 + rows * cols, embed_dim): channels column half, then
    row half, [cls] row 0, computed in float64 (mmpretrain's ``build_2d_sincos_position_embedding`` swaps the halves,
    in float32), so ``'legacy'`` is the authors' bit for bit.

    Args:
        embed_dim: Channels (divisible by 4).
        grid_size: True token grid (rows, columns), e.g. (8, 32).
        pos_grid: ``'true'``: token ``r * W' + c`` gets row ``r``, column ``c``. ``'legacy'``: the authors' (and
            MAERec's) table for a square grid of side ``sqrt(L)``, row-major (256 tokens: row ``t // 16``).
    """
    if embed_dim % 4:
        raise ValueError(f'embed_dim must be divisible by 4, got {embed_dim}')
    num = grid_size[0] * grid_size[1]
    width = {'true': grid_size[1], 'legacy': round(num**0.5)}.get(pos_grid)
    if width is None or num % width or (pos_grid == 'legacy' and width * width != num):
        raise ValueError(f"pos_grid must be 'true' or 'legacy' (legacy: a square token count), got {pos_grid!r} "
                         f'for grid {tuple(grid_size)}')
    omega = 1.0 / 10000**(torch.arange(embed_dim // 4, dtype=torch.float64) / (embed_dim / 4))
    tokens = torch.arange(num, dtype=torch.float64)
    parts = [torch.outer(coords, omega) for coords in (tokens % width, tokens // width)]
    table = torch.cat([f(angles) for angles in parts for f in (torch.sin, torch.cos)], dim=1)
    return torch.cat([table.new_zeros(1, embed_dim), table]).float().unsqueeze(0)


def hmlp_stem(patch_size: int, in_channels: int, embed_dim: int) -> nn.Sequential:
    """Hierarchical MLP stem (Touvron et al., ECCV 2022): convolutions of kernel = stride ``p / 4``, 2 and 2
    (widths ``D / 4``, ``D / 4``, ``D``), LayerNorm + GELU between; patch-local, so masking after it stays exact."""
    if patch_size % 4 or embed_dim % 4:
        raise ValueError(f'the hMLP stem needs patch_size and embed_dim divisible by 4, got {patch_size}, {embed_dim}')
    hidden, first = embed_dim // 4, patch_size // 4
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden, kernel_size=first, stride=first), LayerNorm2d(hidden, eps=1e-5), nn.GELU(),
        nn.Conv2d(hidden, hidden, kernel_size=2, stride=2), LayerNorm2d(hidden, eps=1e-5), nn.GELU(),
        nn.Conv2d(hidden, embed_dim, kernel_size=2, stride=2))


def conv_stem(patch_size: int, in_channels: int, embed_dim: int, depth: int = 1) -> nn.Sequential:
    """Early convolutions (Xiao et al., NeurIPS 2021): ``log2(p)`` stages of ``depth`` 3x3 convolutions with
    BatchNorm + ReLU (the first of each stage of stride 2), widths doubling up to ``embed_dim``, then a 1x1
    convolution; receptive fields overlap, so :meth:`TextViT.forward_masked` blanks masked patches' pixels first."""
    num = patch_size.bit_length() - 1
    if patch_size < 2 or patch_size != 2**num:
        raise ValueError(f'the conv stem needs a power-of-2 patch_size, got {patch_size}')
    if depth < 1:
        raise ValueError(f'the conv stem needs depth >= 1, got {depth}')
    layers: List[nn.Module] = []
    channels = in_channels
    for index in range(num):
        width = max(1, embed_dim // 2**(num - 1 - index))
        for layer in range(depth):
            layers += [nn.Conv2d(channels, width, 3, stride=1 if layer else 2, padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            channels = width
    return nn.Sequential(*layers, nn.Conv2d(channels, embed_dim, kernel_size=1))


def mae_init(module: nn.Module) -> None:
    """MAE's initialisation of a Linear / LayerNorm: xavier-uniform weights, zero biases, unit norms."""
    if isinstance(module, nn.Linear):
        xavier_init(module, distribution='uniform')
    elif isinstance(module, nn.LayerNorm) and module.elementwise_affine:
        constant_init(module, 1)


@MODELS.register_module()
class TextViT(VisionTransformer):
    """mmpretrain's ``VisionTransformer`` for text images: a fixed sin-cos table on the 8x32 token grid (or the
    authors' legacy table), optional hMLP / conv stems and MAE-style masked encoding. Keys are mmpretrain's
    (``patch_embed.projection``, ``layers.N.{ln1,attn,ln2,ffn}``, ``ln1``); :mod:`lmim_mm.converters` maps the
    authors' timm keys to them.

    Args:
        arch: ``'s'`` (384/12/6, DeiT-S), ``'b'`` (768/12/12), or a dict with ``embed_dims``, ``num_layers``,
            ``num_heads`` (``feedforward_channels`` defaults to ``mlp_ratio`` times width).
        img_size: Input (H, W), divisible by ``patch_size``.
        in_channels: Image channels (1: grayscale pipelines).
        mlp_ratio: FFN width ratio of a dict ``arch``.
        drop_rate: Dropout after projections and on the embedded tokens.
        drop_path_rate: Maximum stochastic-depth rate (linear over depth).
        pos_grid: ``'true'`` or ``'legacy'``, see :func:`sincos_2d_table`; a checkpoint's table replaces it.
        out_type: ``'raw'`` (N, 1 + L, D), ``'cls_token'`` (N, D) or ``'featmap'`` (N, D, H', W').
        frozen_stages: Blocks frozen with the embeddings, see :meth:`freeze_blocks`.
        stem: ``'linear'`` (one strided convolution, the authors'), ``'hmlp'`` or ``'conv'``.
        stem_depth: 3x3 convolutions per stage of the conv stem (:func:`conv_stem`); 1 for other stems.
        init_cfg: mmengine init config; ``Pretrained`` loads strictly (``checkpoint=None`` keeps the random init).
    """

    arch_zoo = {**VisionTransformer.arch_zoo,
                **dict.fromkeys(['s', 'small'], VisionTransformer.arch_zoo['deit-small'])}
    STEMS = {'hmlp': hmlp_stem, 'conv': conv_stem}

    def __init__(self, arch: Union[str, dict] = 's', img_size: Sequence[int] = (32, 128), patch_size: int = 4,
                 in_channels: int = 3, mlp_ratio: float = 4.0, qkv_bias: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0, pos_grid: PosGrid = 'true',
                 out_type: str = 'raw', frozen_stages: int = 0, stem: str = 'linear', stem_depth: int = 1,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if isinstance(arch, str) and arch.lower() not in self.arch_zoo:
            raise ValueError(f'unknown TextViT arch {arch!r}; choose from {sorted(self.arch_zoo)} or pass a dict')
        if isinstance(arch, dict):
            if {'embed_dims', 'num_layers', 'num_heads'} - set(arch):
                raise ValueError(f'TextViT arch dict needs embed_dims, num_layers and num_heads, got {sorted(arch)}')
            arch = dict(feedforward_channels=int(arch['embed_dims'] * mlp_ratio), **arch)
        if stem not in ('linear', *self.STEMS):
            raise ValueError(f"stem must be 'linear', 'hmlp' or 'conv', got {stem!r}")
        if stem_depth != 1 and stem != 'conv':
            raise ValueError(f"stem_depth applies to stem='conv' only, got stem_depth={stem_depth} with stem={stem!r}")
        if img_size[0] % patch_size or img_size[1] % patch_size:
            raise ValueError(f'img_size {tuple(img_size)} is not divisible by patch_size {patch_size}')
        super().__init__(arch, tuple(img_size), patch_size, in_channels, drop_rate=drop_rate,
                         drop_path_rate=drop_path_rate, qkv_bias=qkv_bias, out_type=out_type,
                         layer_cfgs=dict(attn_drop_rate=attn_drop_rate), init_cfg=init_cfg)
        self.in_channels = in_channels
        self.patch_size = patch_size
        self.grid_size = self.patch_resolution
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.pos_grid = pos_grid
        self.patch_local = stem != 'conv'  # whether a token depends on its own patch's pixels only
        if stem != 'linear':
            options = dict(depth=stem_depth) if stem == 'conv' else {}
            self.patch_embed.projection = self.STEMS[stem](patch_size, in_channels, self.embed_dims, **options)
        self.pos_embed.requires_grad_(False)
        self._mae_init()
        self.freeze_blocks(frozen_stages)

    def _mae_init(self) -> None:
        """MAE's random init: the fixed table, the linear patch projection as a Linear, [cls] N(0, 0.02); the hMLP
        and conv stems keep PyTorch's default (MAE's xavier init is meant for one linear projection)."""
        self.pos_embed.data.copy_(sincos_2d_table(self.embed_dims, self.grid_size, self.pos_grid))
        projection = self.patch_embed.projection
        if isinstance(projection, nn.Conv2d):
            nn.init.xavier_uniform_(projection.weight.view(projection.out_channels, -1))
            nn.init.zeros_(projection.bias)
        nn.init.normal_(self.cls_token, std=0.02)
        self.apply(mae_init)  # blocks and final norms (the hMLP's LayerNorm2d get their default 1 / 0 again)

    def init_weights(self) -> None:
        """A ``Pretrained`` init_cfg loads strictly (:func:`load_pretrained`); otherwise mmengine's init, then MAE's."""
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            if self.init_cfg.get('checkpoint'):
                load_pretrained(self, self.init_cfg['checkpoint'], prefix=self.init_cfg.get('prefix'))
        else:
            super().init_weights()
            self._mae_init()
        self._is_init = True

    def train(self, mode: bool = True) -> 'TextViT':
        """``nn.Module.train``, returning ``self`` (mmpretrain's ``BaseBackbone.train`` returns None)."""
        super().train(mode)
        return self

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ValueError unless ``x`` is (N, in_channels, H, W) of ``img_size``."""
        if tuple(x.shape[1:]) != (self.in_channels, *self.img_size):
            raise ValueError(f'expected images of shape (N, {self.in_channels}, {self.img_size[0]}, '
                             f'{self.img_size[1]}), got {tuple(x.shape)}')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """mmpretrain's forward on (N, C, H, W) images of ``img_size`` (no position-table resizing)."""
        self.check_input(x)
        return super().forward(x)

    def forward_masked(self, x: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode only the visible tokens (MAE's encoder; ``MAEViT.forward`` with a given mask); returns latent
        (N, 1 + L_keep, D), the mask and ids_restore (N, L) (visible tokens first, in order).

        Args:
            x: Images (N, C, H, W).
            mask: bool (N, L), True = masked; every row masks the same number of tokens.
        """
        self.check_input(x)
        if mask.dtype != torch.bool or tuple(mask.shape) != (x.shape[0], self.num_patches):
            raise ValueError(f'mask must be bool of shape {(x.shape[0], self.num_patches)}, got {mask.dtype} '
                             f'{tuple(mask.shape)}')
        counts = mask.sum(dim=1)
        if not bool((counts == counts[0]).all()):
            raise ValueError(f'every sample must mask the same number of tokens, got counts {counts.tolist()}')
        mask = mask.to(x.device)
        if not self.patch_local:  # blank the masked patches' pixels (0: the normalised mean)
            keep = ~mask.view(x.shape[0], 1, *self.grid_size)
            x = x * keep.repeat_interleave(self.patch_size, dim=2).repeat_interleave(self.patch_size, dim=3)
        tokens = self.patch_embed(x)[0] + self.pos_embed[:, 1:]
        ids_shuffle = torch.argsort(mask.to(torch.uint8), dim=1, stable=True)
        num_keep = self.num_patches - int(counts[0])
        visible = torch.gather(tokens, 1, ids_shuffle[:, :num_keep, None].expand(-1, -1, tokens.shape[-1]))
        cls_token = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        out = self.drop_after_pos(torch.cat([cls_token, visible], dim=1))
        for layer in self.layers:
            out = layer(out)
        return self.ln1(out), mask, torch.argsort(ids_shuffle, dim=1)

    def freeze_blocks(self, num_blocks: int) -> None:
        """Freeze the embeddings and the first ``num_blocks`` blocks (the authors' ``--fixed_encoder_layers``)."""
        if not 0 <= num_blocks <= self.num_layers:
            raise ValueError(f'num_blocks must be in [0, {self.num_layers}], got {num_blocks}')
        if num_blocks:
            self.cls_token.requires_grad_(False)
            for module in (self.patch_embed, *self.layers[:num_blocks]):
                module.requires_grad_(False)
