"""A re-creation of the authors' LMIM pretraining computation, as a baseline for parity and speed.

Written the way the authors' code (GitHub ``zhangyifei01/LMIM``, commit b97fdb2, on top of MAE and
timm) computes: timm blocks with explicit attention (``q @ k^T * scale``, softmax, ``@ v``),
``nn.TransformerDecoderLayer`` (``nn.MultiheadAttention``) in the alignment decoder, MAE's
masking and loss. Parameter names are the authors', so their checkpoints load with
``load_state_dict(strict=True)``; :func:`lmim_mm.converters.convert_lmim_pretrain` maps a state
dict of this module to lmim_mm's ``LMIM``. Imports torch only (runs where OpenMMLab does not).
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

_EPS = 1e-6  # LayerNorm epsilon of the authors' encoders and decoder


def sincos_table(embed_dim: int, num_patches: int) -> torch.Tensor:
    """MAE's ``get_2d_sincos_pos_embed(embed_dim, int(num_patches ** .5), cls_token=True)``.

    The authors build it for a square grid and apply it row-major to 8 x 32 tokens.

    Returns:
        (1, 1 + num_patches, embed_dim), float32, zero row for [cls].
    """
    side = int(num_patches**0.5)
    coords = torch.arange(num_patches, dtype=torch.float64)
    omega = 1.0 / 10000**(torch.arange(embed_dim // 4, dtype=torch.float64) / (embed_dim / 4.0))

    def encode(pos: torch.Tensor) -> torch.Tensor:
        angles = pos[:, None] * omega[None]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    table = torch.cat([encode(coords % side), encode(torch.div(coords, side, rounding_mode='floor'))], dim=1)
    return torch.cat([torch.zeros(1, embed_dim, dtype=torch.float64), table]).float().unsqueeze(0)


class TimmAttention(nn.Module):
    """timm's ``Attention`` with the explicit softmax(q k^T) v computation."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads)**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, channels = x.shape
        qkv = self.qkv(x).reshape(n, length, 3, self.num_heads, channels // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(n, length, channels))


class TimmMlp(nn.Module):
    """timm's ``Mlp``: fc1 -> GELU -> fc2."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class TimmBlock(nn.Module):
    """timm's pre-norm ``Block``."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=_EPS)
        self.attn = TimmAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=_EPS)
        self.mlp = TimmMlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    """timm's ``PatchEmbed``: strided convolution, row-major tokens."""

    def __init__(self, patch_size: int, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


def mae_shuffle(mask: Optional[torch.Tensor], batch: int, length: int, device: torch.device) -> torch.Tensor:
    """MAE's per-sample shuffle (argsort of noise), or the order that keeps a given mask's zeros first."""
    if mask is None:
        return torch.argsort(torch.rand(batch, length, device=device), dim=1)
    return torch.argsort(mask.to(device=device, dtype=torch.uint8), dim=1, stable=True)


class MAEEncoder(nn.Module):
    """MAE's encoder (``forward_encoder``) with timm blocks; ``pos_embed`` is a frozen parameter."""

    def __init__(self, img_size: Sequence[int], patch_size: int, embed_dim: int, depth: int, num_heads: int,
                 mlp_ratio: float, in_chans: int = 3) -> None:
        super().__init__()
        num_patches = (img_size[0] // patch_size) * (img_size[1] // patch_size)
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(sincos_table(embed_dim, num_patches), requires_grad=False)
        self.blocks = nn.ModuleList([TimmBlock(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=_EPS)

    def forward(self, x: torch.Tensor, mask_ratio: float = 0.0, mask: Optional[torch.Tensor] = None):
        """Returns latent (N, 1 + L_keep, D), mask (N, L) with 1 = removed, ids_restore (N, L)."""
        x = self.patch_embed(x) + self.pos_embed[:, 1:, :]
        n, length, dim = x.shape
        len_keep = int(length * (1 - mask_ratio)) if mask is None else length - int(mask[0].sum())
        ids_shuffle = mae_shuffle(mask, n, length, x.device)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        x = torch.gather(x, 1, ids_shuffle[:, :len_keep].unsqueeze(-1).repeat(1, 1, dim))
        removed = torch.ones(n, length, device=x.device)
        removed[:, :len_keep] = 0
        removed = torch.gather(removed, 1, ids_restore)
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(n, -1, -1)
        x = torch.cat([cls, x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), removed, ids_restore


class ReferenceLMIM(nn.Module):
    """The authors' LMIM pretraining model (student, frozen teacher, alignment decoder, loss).

    Arguments are the keys of the parity fixture's ``config`` plus the decoder FFN width; the
    defaults are the paper's ViT-S set-up.
    """

    def __init__(self, img_size: Sequence[int] = (32, 128), patch_size: int = 4, embed_dim: int = 384,
                 depth: int = 12, num_heads: int = 6, decoder_embed_dim: int = 512, decoder_depth: int = 2,
                 decoder_num_heads: int = 16, mlp_ratio: float = 4.0, decoder_ffn_dim: int = 2048,
                 mask_ratio: float = 0.8) -> None:
        super().__init__()
        self.mask_ratio = mask_ratio
        num_patches = (img_size[0] // patch_size) * (img_size[1] // patch_size)
        self.model_maeenc = MAEEncoder(img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio)
        self.model_maeenc_momentum = MAEEncoder(img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio)
        self.model_maeenc_momentum.load_state_dict(self.model_maeenc.state_dict())
        self.model_maeenc_momentum.requires_grad_(False)
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim)
        self.decoder_embed2 = nn.Linear(embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(sincos_table(decoder_embed_dim, num_patches), requires_grad=False)
        self.decoder_blocks = nn.ModuleList([
            nn.TransformerDecoderLayer(decoder_embed_dim, decoder_num_heads, decoder_ffn_dim, dropout=0.1,
                                       activation='gelu', layer_norm_eps=_EPS, batch_first=True)
            for _ in range(decoder_depth)
        ])
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=_EPS)
        self.decoder_pred = nn.Linear(decoder_embed_dim, embed_dim)

    def forward_decoder(self, x: torch.Tensor, ids_restore: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """MAE's decoder input (mask tokens, unshuffle, table) attending to the guidance memory."""
        x = self.decoder_embed(x)
        mask_tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
        x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        x_ = torch.gather(x_, 1, ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
        x = torch.cat([x[:, :1, :], x_], dim=1) + self.decoder_pos_embed
        memory = self.decoder_embed2(memory)
        for blk in self.decoder_blocks:
            x = blk(x, memory)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:, :]

    def forward(self, imgs: torch.Tensor, imgs_guidance: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """One LMIM step.

        Args:
            imgs: Clean view (N, 3, H, W), normalised.
            imgs_guidance: Guidance view (N, 3, H, W), normalised.
            mask: Optional (N, L) mask, 1 = removed, used instead of drawing one.

        Returns:
            ``loss``, ``loss_recon``, ``loss_cls`` and ``pred``, ``target``, ``mask``,
            ``cls_masked``, ``cls_guidance``.
        """
        latent, mask, ids_restore = self.model_maeenc(imgs, self.mask_ratio, mask)
        latent_g, _, _ = self.model_maeenc(imgs_guidance, 0.0, torch.zeros_like(mask))
        with torch.no_grad():
            target, _, _ = self.model_maeenc_momentum(imgs, 0.0, torch.zeros_like(mask))
            target = F.layer_norm(target[:, 1:], target.shape[-1:])
        pred = self.forward_decoder(latent, ids_restore, latent_g)
        loss_recon = (((pred - target)**2).mean(dim=-1) * mask).sum() / mask.sum()
        loss_cls = F.mse_loss(latent[:, 0], latent_g[:, 0])
        return dict(loss=loss_recon + loss_cls, loss_recon=loss_recon, loss_cls=loss_cls, pred=pred, target=target,
                    mask=mask, cls_masked=latent[:, 0], cls_guidance=latent_g[:, 0])
