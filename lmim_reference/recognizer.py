"""A re-creation of the authors' recognizer decoding, as a baseline for parity and speed.

The authors' decoder (MMOCR-0.x ``NRTRDecoder`` style) computes attention explicitly
(``(q / sqrt(d_k)) @ k^T``, ``masked_fill(mask == 0, -inf)``, softmax, ``@ v``) and decodes greedily
by re-running the whole decoder on the whole prefix at every one of the ``max_seq_len`` steps, with
no early stop; their encoder is a timm ViT whose attention is explicit too (``softmax(q k^T) v``).
:class:`ReferenceRecognizer` does the same on lmim_mm's modules (``TextViT`` with timm's explicit
attention in its blocks), so it loads the converted weights (our key names, see
:func:`lmim_mm.converters.convert_lmim_recognizer`) and its predictions can be compared with ours.
Eval only (no dropout). Imports torch + mmengine only.
"""
from typing import Mapping, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from lmim_mm.models.backbones.text_vit import TextViT
from lmim_mm.models.layers.text_decoder import MultiHeadAttention, TransformerTextDecoder, target_mask
from lmim_mm.models.necks.linear_norm import LinearNorm
from .pretrain import TimmAttention


def build_recognizer_modules(encoder_config: Mapping, decoder_config: Mapping) -> nn.ModuleDict:
    """Backbone, neck and decoder core from the authors' configs, named like mmocr's recognizer.

    Args:
        encoder_config: The fixture's ``encoder_config`` (``img_size``, ``patch_size``,
            ``embed_dim``, ``depth``, ``num_heads``, ``mlp_ratio``, ``qkv_bias``).
        decoder_config: The fixture's ``decoder_config`` (``n_layers``, ``d_embedding``,
            ``n_head``, ``d_k``, ``d_v``, ``d_model``, ``d_inner``, ``num_classes``).

    Returns:
        ``ModuleDict(backbone=TextViT, encoder=LinearNorm, decoder=ModuleDict(transformer=...))``,
        whose state-dict keys are those of the converted checkpoint.
    """
    if decoder_config.get('d_embedding', decoder_config['d_model']) != decoder_config['d_model']:
        raise ValueError(f"decoder_config: d_embedding {decoder_config['d_embedding']} != d_model "
                         f"{decoder_config['d_model']} is not supported")
    backbone = TextViT(
        arch=dict(embed_dims=encoder_config['embed_dim'], num_layers=encoder_config['depth'],
                  num_heads=encoder_config['num_heads']),
        img_size=encoder_config['img_size'], patch_size=encoder_config['patch_size'],
        mlp_ratio=encoder_config['mlp_ratio'], qkv_bias=encoder_config['qkv_bias'], pos_grid='legacy',
        out_type='raw')
    neck = LinearNorm(encoder_config['embed_dim'], decoder_config['d_model'])
    transformer = TransformerTextDecoder(
        decoder_config['num_classes'], n_layers=decoder_config['n_layers'], d_model=decoder_config['d_model'],
        n_head=decoder_config['n_head'], d_k=decoder_config['d_k'], d_v=decoder_config['d_v'],
        d_inner=decoder_config['d_inner'])
    return nn.ModuleDict(dict(backbone=backbone, encoder=neck, decoder=nn.ModuleDict(dict(transformer=transformer))))


def explicit_attention(attn: MultiHeadAttention, query: torch.Tensor, key_value: torch.Tensor,
                       mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The authors' ``MultiHeadAttention.forward`` on ``attn``'s weights.

    Args:
        attn: Module holding ``linear_q/k/v`` and ``fc``.
        query: (N, Lq, D).
        key_value: (N, Lk, D).
        mask: Broadcastable to (N, H, Lq, Lk), nonzero = may attend.

    Returns:
        (N, Lq, D).
    """
    n, len_q, _ = query.shape
    len_k = key_value.shape[1]
    q = attn.linear_q(query).view(n, len_q, attn.n_head, attn.d_k).transpose(1, 2)
    k = attn.linear_k(key_value).view(n, len_k, attn.n_head, attn.d_k).transpose(1, 2)
    v = attn.linear_v(key_value).view(n, len_k, attn.n_head, attn.d_v).transpose(1, 2)
    scores = torch.matmul(q / attn.d_k**0.5, k.transpose(2, 3))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float('-inf'))
    out = torch.matmul(F.softmax(scores, dim=-1), v)
    return attn.fc(out.transpose(1, 2).contiguous().view(n, len_q, attn.n_head * attn.d_v))


class ReferenceDecoder(nn.Module):
    """The authors' decoder computation on a :class:`TransformerTextDecoder`'s weights (eval only).

    Args:
        transformer: The decoder core whose weights are used (kept as ``self.transformer``).
    """

    def __init__(self, transformer: TransformerTextDecoder) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The whole decoder over a whole target sequence.

        Args:
            tokens: Decoder input (N, T).
            memory: (N, S, D).
            mask: Self-attention mask broadcastable to (N, H, T, T), nonzero = may attend.

        Returns:
            Logits (N, T, C).
        """
        dec = self.transformer
        x = dec.position_enc(dec.trg_word_emb(tokens))
        for layer in dec.layer_stack:
            h = layer.norm1(x)
            x = x + explicit_attention(layer.self_attn, h, h, mask)
            x = x + explicit_attention(layer.enc_attn, layer.norm2(x), memory)
            x = x + layer.mlp(layer.norm3(x))
        return dec.classifier(dec.layer_norm(x))

    @torch.no_grad()
    def greedy(self, memory: torch.Tensor, steps: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Greedy decoding that re-runs the decoder on the whole prefix at each of ``steps`` steps.

        Args:
            memory: (N, S, D).
            steps: Steps to run (all of them: no early stop).

        Returns:
            ids (N, steps) and per-step probabilities (N, steps, C).
        """
        tokens = torch.full((memory.shape[0], 1), self.transformer.bos_idx, dtype=torch.long, device=memory.device)
        probs = []
        for step in range(steps):
            causal = torch.ones(step + 1, step + 1, device=memory.device).tril()
            step_probs = F.softmax(self(tokens, memory, causal)[:, -1], dim=-1)
            probs.append(step_probs)
            tokens = torch.cat([tokens, step_probs.argmax(-1, keepdim=True)], dim=1)
        return tokens[:, 1:], torch.stack(probs, dim=1)


class ReferenceRecognizer(nn.Module):
    """The authors' recognizer computation on lmim_mm modules (eval only).

    State-dict keys are those of the converted checkpoint (``backbone.*``, ``encoder.*``,
    ``decoder.transformer.*``).

    Args:
        encoder_config: See :func:`build_recognizer_modules`.
        decoder_config: See :func:`build_recognizer_modules`; ``max_seq_len`` sets the greedy steps.
    """

    def __init__(self, encoder_config: Mapping, decoder_config: Mapping) -> None:
        super().__init__()
        modules = build_recognizer_modules(encoder_config, decoder_config)
        self.backbone, self.encoder = modules['backbone'], modules['encoder']
        for block in self.backbone.layers:  # the authors' timm attention (same parameter names)
            block.attn = TimmAttention(encoder_config['embed_dim'], encoder_config['num_heads'],
                                       qkv_bias=encoder_config['qkv_bias'])
        self.decoder = ReferenceDecoder(modules['decoder']['transformer'])
        self.max_seq_len = int(decoder_config['max_seq_len'])

    def memory(self, imgs: torch.Tensor) -> torch.Tensor:
        """Normalised images (N, 3, H, W) -> decoder memory (N, 1 + L, d_model)."""
        return self.encoder(self.backbone(imgs))

    @torch.no_grad()
    def forward_train(self, imgs: torch.Tensor, labels: torch.Tensor, label_lens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing on [BOS, y1 .. y_{T-1}].

        Args:
            imgs: (N, 3, H, W).
            labels: Padded targets (N, T).
            label_lens: Characters + EOS, (N,).

        Returns:
            Logits (N, T, C).
        """
        bos = labels.new_full((labels.shape[0], 1), self.decoder.transformer.bos_idx)
        tokens = torch.cat([bos, labels[:, :-1]], dim=1)
        return self.decoder(tokens, self.memory(imgs), target_mask(label_lens, labels.shape[1]))

    @torch.no_grad()
    def greedy(self, imgs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Greedy decoding for all ``max_seq_len`` steps (see :meth:`ReferenceDecoder.greedy`).

        Args:
            imgs: (N, 3, H, W).

        Returns:
            ids (N, max_seq_len) and per-step probabilities (N, max_seq_len, C).
        """
        return self.decoder.greedy(self.memory(imgs), self.max_seq_len)


__all__ = ['ReferenceDecoder', 'ReferenceRecognizer', 'build_recognizer_modules', 'explicit_attention']
