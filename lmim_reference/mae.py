"""A re-creation of MAERec's MAE pretraining step (MAE on text images), as a speed and parity baseline.

Written the way MAE's ``MaskedAutoencoderViT`` (as MAERec adapts it to 32 x 128 images) computes:
the encoder of :class:`~lmim_reference.pretrain.MAEEncoder` (timm blocks with explicit
softmax attention, MAE's random masking), mask tokens appended and unshuffled, a pixel decoder of
the same explicit-attention blocks, and the norm-pix MSE on masked patches. Parameter names are
MAERec's checkpoint keys (``cls_token``, ``pos_embed``, ``patch_embed.proj``, ``blocks.N``,
``norm``, ``mask_token``, ``decoder_*``), so :func:`to_textmae_state_dict` maps its state dict to
lmim_mm's ``TextMAE`` / ``MMS``.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from lmim_mm.converters.authors import convert_maerec_mae
from .pretrain import _EPS, MAEEncoder, TimmBlock, sincos_table


class ReferenceMAE(MAEEncoder):
    """MAERec's MAE (encoder, pixel decoder, norm-pix loss); the defaults are its ViT-S set-up.

    Args:
        img_size: Input (H, W).
        patch_size: Patch side.
        embed_dim: Encoder width.
        depth: Encoder blocks.
        num_heads: Encoder heads.
        decoder_embed_dim: Decoder width.
        decoder_depth: Decoder blocks.
        decoder_num_heads: Decoder heads.
        mlp_ratio: MLP width ratio of all blocks.
        mask_ratio: Random masking ratio.
        norm_pix_loss: Normalise every target patch by its mean and (unbiased) variance.
    """

    def __init__(self, img_size: Sequence[int] = (32, 128), patch_size: int = 4, embed_dim: int = 384,
                 depth: int = 12, num_heads: int = 6, decoder_embed_dim: int = 512, decoder_depth: int = 8,
                 decoder_num_heads: int = 16, mlp_ratio: float = 4.0, mask_ratio: float = 0.75,
                 norm_pix_loss: bool = True) -> None:
        super().__init__(img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio)
        self.patch_size = patch_size
        self.mask_ratio = mask_ratio
        self.norm_pix_loss = norm_pix_loss
        num_patches = (img_size[0] // patch_size) * (img_size[1] // patch_size)
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(sincos_table(decoder_embed_dim, num_patches), requires_grad=False)
        self.decoder_blocks = nn.ModuleList(
            [TimmBlock(decoder_embed_dim, decoder_num_heads, mlp_ratio) for _ in range(decoder_depth)])
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=_EPS)
        self.decoder_pred = nn.Linear(decoder_embed_dim, patch_size**2 * 3)

    def patchify(self, imgs: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, H/p * W/p, p * p * 3), MAE's layout."""
        n, _, height, width = imgs.shape
        p = self.patch_size
        x = imgs.reshape(n, 3, height // p, p, width // p, p)
        return torch.einsum('nchpwq->nhwpqc', x).reshape(n, (height // p) * (width // p), p * p * 3)

    def forward_decoder(self, x: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """MAE's ``forward_decoder``: (N, 1 + L_keep, D) latent -> (N, L, p * p * 3) pixels."""
        x = self.decoder_embed(x)
        mask_tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
        x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        x_ = torch.gather(x_, 1, ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
        x = torch.cat([x[:, :1, :], x_], dim=1) + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:, :]

    def forward_loss(self, imgs: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """MAE's ``forward_loss``: mean over masked patches of the per-patch MSE."""
        target = self.patchify(imgs)
        if self.norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1.e-6)**.5
        loss = ((pred - target)**2).mean(dim=-1)
        return (loss * mask).sum() / mask.sum()

    def forward(self, imgs: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """One MAE step.

        Args:
            imgs: Normalised images (N, 3, H, W).
            mask: Optional (N, L) mask, 1 = removed, used instead of drawing one.

        Returns:
            ``loss``, ``pred`` (N, L, p * p * 3) and ``mask`` (N, L).
        """
        latent, mask, ids_restore = super().forward(imgs, self.mask_ratio, mask)
        pred = self.forward_decoder(latent, ids_restore)
        return dict(loss=self.forward_loss(imgs, pred, mask), pred=pred, mask=mask)


def to_textmae_state_dict(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """MAERec MAE keys (e.g. a :class:`ReferenceMAE` state dict) -> lmim_mm ``TextMAE`` keys.

    The encoder goes to ``backbone.*``, the decoder to ``neck.*``.
    """
    return convert_maerec_mae(state_dict, prefix='backbone.', with_decoder=True, source='MAERec MAE state dict')[0]


__all__ = ['ReferenceMAE', 'to_textmae_state_dict']
