"""The LMIM recognizer's Transformer decoder on mmocr's layers, plus what they lack: decoding steps over cached
self-attention keys/values, the memory's keys/values projected once per image or folded into the queries."""
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmocr.models.common.layers import TFDecoderLayer
from mmocr.models.common.modules import MultiHeadAttention, PositionalEncoding

#: Keys and values of one attention, each (N, n_head, L, d_k / d_v).
KV = Tuple[torch.Tensor, torch.Tensor]
#: What a layer's cross-attention reads when decoding: projected keys/values, or the memory (N, S, D) itself.
MemoryKV = Union[KV, torch.Tensor]


def project_kv(attn: MultiHeadAttention, x: torch.Tensor) -> KV:
    """Keys (N, H, L, d_k) and values (N, H, L, d_v) of ``x`` (N, L, D)."""
    n, length, _ = x.shape
    keys = attn.linear_k(x).view(n, length, attn.n_head, attn.d_k).transpose(1, 2)
    return keys, attn.linear_v(x).view(n, length, attn.n_head, attn.d_v).transpose(1, 2)


def attend(attn: MultiHeadAttention, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Queries from ``x`` (N * G, Lq, D) attend, unmasked and with SDPA, to ``keys`` (N, H, Lk, d_k) and ``values``
    (N, H, Lk, d_v) through ``attn``'s projections: (N * G, Lq, D). G consecutive rows (the beams of one image)
    share one sequence of keys/values and are attended together as G * Lq queries (no copy, no re-read)."""
    rows, len_q, _ = x.shape
    if rows % keys.shape[0]:
        raise ValueError(f'{rows} query rows for {keys.shape[0]} key sequences: the rows must be a multiple of them')
    queries = attn.linear_q(x).view(keys.shape[0], -1, attn.n_head, attn.d_k).transpose(1, 2)
    out = F.scaled_dot_product_attention(queries, keys, values)
    return attn.proj_drop(attn.fc(out.transpose(1, 2).reshape(rows, len_q, attn.dim_v)))


def attend_memory(attn: MultiHeadAttention, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """``attend(attn, x, *project_kv(attn, memory))`` up to rounding, with the projections folded into the queries:
    ``x`` (N * G, Lq, D) as in :func:`attend`, ``memory`` (N, S, D) -> (N * G, Lq, D). Head ``h`` scores
    ``(q_h W_k,h) . m`` and returns ``(sum_j p_j m_j) W_v,h^T + b_v,h`` (a key bias adds the same score to every key,
    which the softmax ignores), reading the memory once for all heads: per image ``queries x H x S x D`` multiply-adds
    instead of the projection's ``2 x S x D x H x d_k`` (cheaper for fewer than ``d_k`` queries per image)."""
    rows, len_q, _ = x.shape
    n, _, width = memory.shape
    if rows % n:
        raise ValueError(f'{rows} query rows for {n} memories: the rows must be a multiple of them')
    queries = attn.linear_q(x).view(n, -1, attn.n_head, attn.d_k) * attn.d_k**-0.5
    folded = torch.einsum('nqhk,hkd->nhqd', queries, attn.linear_k.weight.view(attn.n_head, attn.d_k, width))
    probs = torch.bmm(folded.reshape(n, -1, width), memory.transpose(1, 2)).softmax(-1)
    context = torch.bmm(probs, memory).view(folded.shape)  # (N, H, Q, D): sum_j p_j m_j
    out = torch.einsum('nhqd,hvd->nqhv', context, attn.linear_v.weight.view(attn.n_head, attn.d_v, width))
    if attn.linear_v.bias is not None:
        out = out + attn.linear_v.bias.view(attn.n_head, attn.d_v)
    return attn.proj_drop(attn.fc(out.reshape(rows, len_q, attn.dim_v)))


class KVCache:
    """Self-attention keys/values of ``n_layers`` decoder layers for ``max_len`` steps, allocated on first append."""

    def __init__(self, n_layers: int, max_len: int) -> None:
        self.n_layers, self.max_len, self.length = n_layers, max_len, 0
        self.keys: Optional[torch.Tensor] = None  # (n_layers, N, H, max_len, d_k)
        self.values: Optional[torch.Tensor] = None  # (n_layers, N, H, max_len, d_v)

    def append(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> KV:
        """Store new keys/values (N, H, t, d) of ``layer``; return all steps so far (N, H, length + t, d)."""
        end = self.length + keys.shape[2]
        if end > self.max_len:
            raise ValueError(f'KVCache holds {self.max_len} steps, step {end} was requested')
        if self.keys is None:
            self.keys = keys.new_empty(self.n_layers, *keys.shape[:2], self.max_len, keys.shape[3])
            self.values = values.new_empty(self.n_layers, *values.shape[:2], self.max_len, values.shape[3])
        self.keys[layer, :, :, self.length:end] = keys
        self.values[layer, :, :, self.length:end] = values
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]

    def advance(self, steps: int = 1) -> None:
        """Mark ``steps`` more positions as filled (after every layer has appended)."""
        self.length += steps

    def reorder(self, index: torch.Tensor) -> None:
        """Keep sequences ``index`` (int64, (N',)) in that order, e.g. the parents of new beams."""
        if self.keys is not None:
            self.keys, self.values = self.keys.index_select(1, index), self.values.index_select(1, index)


def target_mask(lengths: torch.Tensor, num_steps: int) -> torch.Tensor:
    """The authors' self-attention mask, bool (N, 1, T, T), True = may attend: causal AND key index < target length.
    ``lengths`` (N,) count characters + EOS; below 1 they count as 1, so every query keeps the BOS key."""
    steps = torch.arange(num_steps, device=lengths.device)
    causal = steps[None, :] <= steps[:, None]
    within = steps[None, :] < lengths.clamp(min=1)[:, None]
    return (causal[None] & within[:, None, :]).unsqueeze(1)


class TransformerTextDecoder(nn.Module):
    """mmocr's ``NRTRDecoder`` layout as the authors use it: token embedding + ``PositionalEncoding``, mmocr's default
    ``TFDecoderLayer`` s (pre-norm, GELU), LayerNorm (eps 1e-6), classifier; mask "causal AND key index < length".
    Submodule names are mmocr's = the authors', so their weights map key for key (checked against their fixture
    ``lmim_official/lmim_recognizer_seed0.pt``). The embedding's last row, ``bos_idx = num_classes``, is the
    input-only start token.

    Args:
        num_classes: Output classes (characters and EOS / padding / unknown).
        d_model: Width (also the embedding width); must equal ``n_head * d_k`` and ``n_head * d_v``.
        d_k: Query/key width per head (``d_v``: value width per head).
        n_position: Rows of the position table (longest target).
        qkv_bias: Bias in attention projections (the authors have none).
    """

    def __init__(self, num_classes: int, n_layers: int = 6, d_model: int = 512, n_head: int = 8, d_k: int = 64,
                 d_v: int = 64, d_inner: int = 256, n_position: int = 200, dropout: float = 0.1,
                 qkv_bias: bool = False) -> None:
        super().__init__()
        if d_model != n_head * d_k or d_model != n_head * d_v:
            raise ValueError(f'd_model ({d_model}) must equal n_head * d_k and n_head * d_v (mmocr\'s '
                             f'MultiHeadAttention), got n_head={n_head}, d_k={d_k}, d_v={d_v}')
        self.num_classes = self.bos_idx = num_classes
        self.trg_word_emb = nn.Embedding(num_classes + 1, d_model)
        self.position_enc = PositionalEncoding(d_model, n_position)
        self.dropout = nn.Dropout(dropout)
        self.layer_stack = nn.ModuleList(
            TFDecoderLayer(d_model, d_inner, n_head, d_k, d_v, dropout, qkv_bias) for _ in range(n_layers))
        self.layer_norm = nn.LayerNorm(d_model, eps=1e-6)
        self.classifier = nn.Linear(d_model, num_classes)

    def memory_kv(self, memory: torch.Tensor, queries_per_image: Optional[int] = None) -> List[MemoryKV]:
        """What every layer's cross-attention reads of the encoder output ``memory`` (N, S, D) when decoding: the
        memory itself (folded, :func:`attend_memory`) when an image makes fewer ``queries_per_image`` (steps x beams;
        None: unknown) than ``d_k`` and the batch's memory has at least as many tokens as the folded weights ``H x (d_k
        + d_v)`` have rows (each step re-reads them; for one image they would cost more than they save); else each
        layer's projected keys/values."""
        attn = self.layer_stack[0].enc_attn
        fold = (queries_per_image is not None and queries_per_image < attn.d_k
                and memory.shape[0] * memory.shape[1] >= attn.n_head * (attn.d_k + attn.d_v))
        return [memory if fold else project_kv(layer.enc_attn, memory) for layer in self.layer_stack]

    def new_cache(self, max_len: int) -> KVCache:
        """An empty self-attention cache for up to ``max_len`` steps (at most the rows of the position table)."""
        rows = self.position_enc.position_table.shape[1]
        if not 1 <= max_len <= rows:
            raise ValueError(f'max_len must be in [1, {rows}] (the position table), got {max_len}')
        return KVCache(len(self.layer_stack), max_len)

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor,
                lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Teacher forcing through mmocr's layers; returns logits (N, T, num_classes).

        Args:
            tokens: Decoder input [BOS, y1 .. y_{T-1}], int64 (N, T).
            memory: Encoder output (N, S, D).
            lengths: Target lengths (characters + EOS), (N,); keys at or beyond them are masked. None: causal only.
        """
        whole = tokens.new_full((1, ), tokens.shape[1])  # lengths None: every key is within the target (causal only)
        mask = target_mask(whole if lengths is None else lengths, tokens.shape[1])
        x = self.dropout(self.position_enc(self.trg_word_emb(tokens)))
        for layer in self.layer_stack:
            x = layer(x, memory, mask)
        return self.classifier(self.layer_norm(x))

    def step(self, tokens: torch.Tensor, memory_kv: List[MemoryKV], cache: KVCache) -> torch.Tensor:
        """One cached decoding step (layers run on the new position only); returns next-token logits (N, num_classes).

        Args:
            tokens: The latest token of each sequence, int64 (N,).
            memory_kv: From :meth:`memory_kv`.
            cache: Self-attention cache holding the previous steps; gets the new keys/values, advanced by one.
        """
        positions = self.position_enc.position_table[:, cache.length:cache.length + 1]
        x = self.dropout(self.trg_word_emb(tokens[:, None]) + positions)
        for index, (layer, cross) in enumerate(zip(self.layer_stack, memory_kv)):
            h = layer.norm1(x)
            x = x + attend(layer.self_attn, h, *cache.append(index, *project_kv(layer.self_attn, h)))
            h = layer.norm2(x)
            folded = isinstance(cross, torch.Tensor)
            x = x + (attend_memory(layer.enc_attn, h, cross) if folded else attend(layer.enc_attn, h, *cross))
            x = x + layer.mlp(layer.norm3(x))
        cache.advance(1)
        return self.classifier(self.layer_norm(x))[:, 0]
