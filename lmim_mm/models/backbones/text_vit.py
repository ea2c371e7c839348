"""TextViT: the plain ViT encoder of LMIM / MAERec, shaped for 32x128 word images."""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from lmim_mm.registry import register
from ..layers.dropout import Dropout
from ..layers.pos_embed import PosGrid, sincos_2d_table
from ..layers.transformer import Block, init_vit_weights
from lmim_mm.datasets.transforms.mask_transform import num_kept

#: name -> (embed_dim, depth, num_heads)
ARCH_SETTINGS: Dict[str, Tuple[int, int, int]] = {
    's': (384, 12, 6),
    'small': (384, 12, 6),
    'b': (768, 12, 12),
    'base': (768, 12, 12),
}


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of a (N, C, H, W) map (nothing mixes pixels)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def hmlp_stem(patch_size: int, in_channels: int, embed_dim: int) -> nn.Sequential:
    """Hierarchical MLP stem (Touvron et al., "Three things everyone should know about ViTs", ECCV
    2022): three non-overlapping convolutions of kernel = stride ``patch_size / 4``, 2 and 2, widths
    ``embed_dim / 4``, ``embed_dim / 4`` and ``embed_dim``, each of the first two followed by a
    per-pixel LayerNorm and GELU. No operation crosses a patch border, so a patch's token depends on
    its own pixels only and masking tokens after the stem stays exact, as with a linear projection.

    Raises:
        ValueError: ``patch_size`` is not a multiple of 4 or ``embed_dim`` not of 4.
    """
    if patch_size % 4 or embed_dim % 4:
        raise ValueError(f"the hMLP stem needs patch_size and embed_dim divisible by 4, got {patch_size} and "
                         f'{embed_dim}')
    hidden = embed_dim // 4
    first = patch_size // 4
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden, kernel_size=first, stride=first), ChannelLayerNorm(hidden), nn.GELU(),
        nn.Conv2d(hidden, hidden, kernel_size=2, stride=2), ChannelLayerNorm(hidden), nn.GELU(),
        nn.Conv2d(hidden, embed_dim, kernel_size=2, stride=2))


def conv_stem(patch_size: int, in_channels: int, embed_dim: int) -> nn.Sequential:
    """Early convolutions (Xiao et al., "Early convolutions help transformers see better", NeurIPS
    2021): ``log2(patch_size)`` 3x3 convolutions of stride 2 with BatchNorm and ReLU, widths doubling
    up to ``embed_dim``, then a 1x1 convolution to ``embed_dim``. Receptive fields overlap neighbouring
    patches, so :meth:`TextViT.forward_masked` blanks the pixels of masked patches before this stem.

    Raises:
        ValueError: ``patch_size`` is not a power of 2 (>= 2).
    """
    num = patch_size.bit_length() - 1
    if patch_size < 2 or patch_size != 2**num:
        raise ValueError(f'the conv stem needs a power-of-2 patch_size, got {patch_size}')
    layers: List[nn.Module] = []
    channels = in_channels
    for index in range(num):
        width = max(1, embed_dim // 2**(num - 1 - index))
        layers += [nn.Conv2d(channels, width, kernel_size=3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width),
                   nn.ReLU(inplace=True)]
        channels = width
    return nn.Sequential(*layers, nn.Conv2d(channels, embed_dim, kernel_size=1))


class PatchEmbed(nn.Module):
    """Non-overlapping patches -> tokens: one strided convolution, or the patch-local hMLP stem.

    Args:
        img_size: (H, W) of the input.
        patch_size: Square patch side.
        in_channels: Image channels.
        embed_dim: Token width.
        stem: ``'linear'``: one ``patch_size``-strided convolution (ViT, the authors' encoder);
            ``'hmlp'``: :func:`hmlp_stem`; ``'conv'``: :func:`conv_stem`.
    """

    STEMS = {'hmlp': hmlp_stem, 'conv': conv_stem}

    def __init__(self, img_size: Tuple[int, int], patch_size: int, in_channels: int, embed_dim: int,
                 stem: str = 'linear') -> None:
        super().__init__()
        if img_size[0] % patch_size or img_size[1] % patch_size:
            raise ValueError(f'img_size {img_size} is not divisible by patch_size {patch_size}')
        if stem not in ('linear', *self.STEMS):
            raise ValueError(f"stem must be 'linear', 'hmlp' or 'conv', got {stem!r}")
        self.img_size = tuple(img_size)
        self.patch_size = patch_size
        #: whether a token depends on its own patch's pixels only
        self.patch_local = stem != 'conv'
        self.in_channels = in_channels
        self.grid_size = (img_size[0] // patch_size, img_size[1] // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = (nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)
                     if stem == 'linear' else self.STEMS[stem](patch_size, in_channels, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, H/p * W/p, D), row-major tokens."""
        if tuple(x.shape[-3:]) != (self.in_channels, *self.img_size):
            raise ValueError(f'expected images of shape (N, {self.in_channels}, {self.img_size[0]}, '
                             f'{self.img_size[1]}), got {tuple(x.shape)}')
        return self.proj(x).flatten(2).transpose(1, 2)


def random_keep_order(batch: int, num_tokens: int, num_keep: int, device: torch.device,
                      generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """MAE's per-sample random shuffle: argsort of uniform noise.

    Returns:
        ids_shuffle, int64 (N, L): the first ``num_keep`` entries of a row are the kept tokens.
    """
    noise = torch.rand(batch, num_tokens, device=device, generator=generator)
    return torch.argsort(noise, dim=1)


def random_mask(batch: int, num_tokens: int, mask_ratio: float, device: torch.device,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """The mask that :func:`random_keep_order` draws, as (N, L) float with 1 = removed."""
    num_keep = int(num_tokens * (1 - float(mask_ratio)))
    ranks = torch.argsort(random_keep_order(batch, num_tokens, num_keep, device, generator), dim=1)
    return (ranks >= num_keep).float()


def shuffle_from_mask(mask: torch.Tensor) -> Tuple[torch.Tensor, int]:
    """Token order that puts the visible tokens of ``mask`` first (in index order).

    Args:
        mask: (N, L), 1 / True = removed; every row must remove the same number of tokens.

    Returns:
        ids_shuffle (N, L) and the number of visible tokens per sample.
    """
    mask = mask.bool()
    counts = mask.sum(dim=1)
    if counts.numel() and not bool((counts == counts[0]).all()):
        raise ValueError(f'every sample must mask the same number of tokens, got counts {counts.tolist()}')
    num_keep = mask.shape[1] - (int(counts[0]) if counts.numel() else 0)
    return torch.argsort(mask.to(torch.uint8), dim=1, stable=True), num_keep


@register('MODELS')
class TextViT(BaseModule):
    """Vision Transformer encoder for text images, with optional MAE-style token masking.

    Layout as timm's ``VisionTransformer`` (``cls_token``, ``pos_embed``, ``patch_embed.proj``,
    ``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``, ``norm``), so the authors' and
    MAERec's weights load key for key.

    Args:
        arch: ``'s'`` (384/12/6) or ``'b'`` (768/12/12), or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads``.
        img_size: Input (H, W).
        patch_size: Patch side.
        in_channels: Image channels: 3 (RGB, the authors') or 1 (grayscale: pair it with a
            pipeline that loads grayscale images and one-value ``mean`` / ``std``).
        mlp_ratio: MLP width ratio.
        qkv_bias: Bias in qkv projections.
        drop_rate: Dropout after projections and on the embedded tokens.
        attn_drop_rate: Attention dropout.
        drop_path_rate: Maximum stochastic-depth rate (linear over depth).
        pos_grid: ``'true'`` builds the sin-cos table on the real token grid (8x32); ``'legacy'``
            reproduces the authors' 16x16 table. A loaded checkpoint's ``pos_embed`` replaces it.
        final_norm: Apply the final LayerNorm.
        frozen_stages: Freeze the embeddings and the first ``frozen_stages`` blocks (the authors'
            ``--fixed_encoder_layers``); 0 trains everything.
        norm_eps: LayerNorm epsilon.
        out_type: ``'raw'``: all tokens (N, 1 + L, D) - what the recognizer and LMIM use;
            ``'cls_token'``: (N, D); ``'featmap'``: patch tokens as (N, D, H', W').
        stem: Patch embedding: ``'linear'`` (one strided convolution, the authors') or ``'hmlp'``
            (patch-local hierarchical MLP, :func:`hmlp_stem`; masking stays exact).
        init_cfg: mmengine init config (e.g. ``dict(type='Pretrained', checkpoint=..., prefix=...)``).
    """

    def __init__(self, arch: Union[str, dict] = 's', img_size: Sequence[int] = (32, 128), patch_size: int = 4,
                 in_channels: int = 3, mlp_ratio: float = 4.0, qkv_bias: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0, pos_grid: PosGrid = 'true',
                 final_norm: bool = True, norm_eps: float = 1e-6, out_type: str = 'raw', frozen_stages: int = 0,
                 stem: str = 'linear', init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch.lower() not in ARCH_SETTINGS:
                raise ValueError(f'unknown TextViT arch {arch!r}; choose from {sorted(ARCH_SETTINGS)} or pass a dict')
            embed_dim, depth, num_heads = ARCH_SETTINGS[arch.lower()]
        else:
            missing = {'embed_dims', 'num_layers', 'num_heads'} - set(arch)
            if missing:
                raise ValueError(f'TextViT arch dict lacks {sorted(missing)}')
            embed_dim, depth, num_heads = arch['embed_dims'], arch['num_layers'], arch['num_heads']
        if out_type not in ('raw', 'cls_token', 'featmap'):
            raise ValueError(f"out_type must be 'raw', 'cls_token' or 'featmap', got {out_type!r}")
        self.embed_dims = embed_dim
        self.num_layers = depth
        self.num_heads = num_heads
        self.out_type = out_type
        self.pos_grid = pos_grid

        self.patch_embed = PatchEmbed(tuple(img_size), patch_size, in_channels, embed_dim, stem)
        self.grid_size = self.patch_embed.grid_size
        self.num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        # Fixed table; persistent so checkpoints carry it (the authors' 16x16 table loads as is).
        self.register_buffer('pos_embed', sincos_2d_table(embed_dim, self.grid_size, pos_grid))
        self.pos_drop = Dropout(drop_rate)
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList([
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, drop=drop_rate, attn_drop=attn_drop_rate,
                  drop_path=rates[i], norm_eps=norm_eps) for i in range(depth)
        ])
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps) if final_norm else nn.Identity()
        self._init_default_weights()
        self.freeze_blocks(frozen_stages)

    def _init_default_weights(self) -> None:
        """MAE initialisation (patch convolutions as Linears, cls token N(0, 0.02))."""
        for conv in self.patch_embed.modules():
            if isinstance(conv, nn.Conv2d):
                nn.init.xavier_uniform_(conv.weight.view(conv.out_channels, -1))
                if conv.bias is not None:
                    nn.init.zeros_(conv.bias)
        nn.init.normal_(self.cls_token, std=0.02)
        self.blocks.apply(init_vit_weights)
        self.norm.apply(init_vit_weights)

    def init_weights(self) -> None:
        """Random init happens in ``__init__``; a ``Pretrained`` init_cfg is loaded strictly here.

        ``init_cfg=dict(type='Pretrained', checkpoint=None, ...)`` keeps the random init, so configs
        can carry the prefix and take the path from ``--cfg-options``.
        """
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            if self.init_cfg.get('checkpoint'):
                from lmim_mm.utils.checkpoint import load_pretrained
                load_pretrained(self, self.init_cfg['checkpoint'], prefix=self.init_cfg.get('prefix'))
            self._is_init = True
            return
        super().init_weights()

    # ------------------------------------------------------------------ masking
    def mask_tokens(self, tokens: torch.Tensor, mask: Optional[torch.Tensor] = None,
                    mask_ratio: Optional[float] = None,
                    generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Keep the visible tokens.

        Args:
            tokens: Patch tokens with positions, (N, L, D).
            mask: Explicit mask (N, L), 1 = removed, same count per row. Takes precedence.
            mask_ratio: Fraction to remove at random (MAE): ``int(L * (1 - ratio))`` tokens kept; it
                must mask at least one token and keep one.
            generator: Random generator for the random mask.

        Returns:
            visible (N, L_keep, D), mask (N, L) float with 1 = removed, ids_restore (N, L).
        """
        n, length, dim = tokens.shape
        if mask is not None:
            if tuple(mask.shape) != (n, length):
                raise ValueError(f'mask must have shape {(n, length)}, got {tuple(mask.shape)}')
            ids_shuffle, num_keep = shuffle_from_mask(mask.to(tokens.device))
        else:
            num_keep = num_kept(length, mask_ratio, type(self).__name__, 'mask_ratio', partial=True)
            ids_shuffle = random_keep_order(n, length, num_keep, tokens.device, generator)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :num_keep]
        visible = torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, dim))
        full_mask = torch.ones(n, length, device=tokens.device, dtype=tokens.dtype)
        full_mask[:, :num_keep] = 0
        full_mask = torch.gather(full_mask, 1, ids_restore)
        return visible, full_mask, ids_restore

    # ------------------------------------------------------------------ forward
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Patch tokens with positions (no [cls]): (N, C, H, W) -> (N, L, D)."""
        return self.patch_embed(x) + self.pos_embed[:, 1:, :]

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Prepend [cls] and run the blocks + final norm: (N, L', D) -> (N, 1 + L', D)."""
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(tokens.shape[0], -1, -1)
        x = self.pos_drop(torch.cat([cls, tokens], dim=1))
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward_masked(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None,
                       mask_ratio: Optional[float] = None, generator: Optional[torch.Generator] = None
                       ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode only the visible tokens (MAE encoder).

        Args:
            x: Images (N, C, H, W).
            mask: Explicit (N, L) mask, 1 = removed.
            mask_ratio: Random masking ratio when ``mask`` is None.
            generator: Random generator for the random mask.

        Returns:
            latent (N, 1 + L_keep, D), mask (N, L) with 1 = removed, ids_restore (N, L).
        """
        if mask is None and mask_ratio is None:
            raise ValueError('forward_masked needs a mask or a mask_ratio')
        if not self.patch_embed.patch_local:  # the stem must not see the masked patches' pixels
            if mask is None:
                mask = random_mask(x.shape[0], self.num_patches, mask_ratio, x.device, generator)
            x = self.hide_patches(x, mask)
        visible, mask, ids_restore = self.mask_tokens(self.embed(x), mask, mask_ratio, generator)
        return self.encode(visible), mask, ids_restore

    def hide_patches(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Set the pixels of the masked patches to 0 (the normalised mean): (N, C, H, W) -> same."""
        p = self.patch_embed.patch_size
        keep = 1 - mask.to(x.dtype).view(x.shape[0], 1, *self.grid_size)
        return x * keep.repeat_interleave(p, dim=2).repeat_interleave(p, dim=3)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """Encode all tokens.

        Args:
            x: Images (N, C, H, W).

        Returns:
            A 1-tuple (OpenMMLab backbone convention) holding, by ``out_type``: (N, 1 + L, D),
            (N, D) or (N, D, H', W').
        """
        out = self.encode(self.embed(x))
        if self.out_type == 'cls_token':
            return (out[:, 0], )
        if self.out_type == 'featmap':
            n, _, dim = out.shape
            return (out[:, 1:].transpose(1, 2).reshape(n, dim, *self.grid_size), )
        return (out, )

    # ------------------------------------------------------------------ optimisation helpers
    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer index of a parameter for layer-wise lr decay (mmpretrain's convention).

        Embeddings are layer 0, block ``i`` is layer ``i + 1``, everything after the blocks (and
        outside the backbone) is layer ``num_layers + 1``.

        Args:
            param_name: Parameter name, possibly with ``prefix``.
            prefix: Prefix of the backbone inside the model, e.g. ``'backbone.'``.

        Returns:
            (layer_depth, num_layers + 2).
        """
        total = self.num_layers + 2
        if not param_name.startswith(prefix):
            return total - 1, total
        name = param_name[len(prefix):]
        if name.startswith(('cls_token', 'pos_embed', 'patch_embed')):
            return 0, total
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, total
        return total - 1, total

    def freeze_blocks(self, num_blocks: int) -> None:
        """Freeze the embeddings and the first ``num_blocks`` blocks (``--fixed_encoder_layers``)."""
        if not 0 <= num_blocks <= self.num_layers:
            raise ValueError(f'num_blocks must be in [0, {self.num_layers}], got {num_blocks}')
        if num_blocks == 0:
            return
        frozen: Iterable[nn.Module] = [self.patch_embed, *self.blocks[:num_blocks]]
        self.cls_token.requires_grad_(False)
        for module in frozen:
            module.requires_grad_(False)
