"""Pre-norm Transformer decoder of the LMIM recognizer, with key/value caching for decoding.

The computation is MMOCR-0.x's ``NRTRDecoder`` with ``TFDecoderLayer(operation_order=('norm',
'self_attn', 'norm', 'enc_dec_attn', 'norm', 'ffn'))`` as the authors use it, checked against their
fixture (``../shared/fixtures/lmim_official/lmim_recognizer_seed0.pt``): no embedding scale, fixed
sinusoidal target positions, layer norms with eps 1e-5 inside the layers and 1e-6 at the end,
attention scaled by ``d_k ** -0.5``, and a self-attention mask "causal AND key index < target
length". Submodule names equal the authors' (``trg_word_emb``, ``position_enc.position_table``,
``layer_stack.N.{norm1,self_attn,norm2,enc_attn,norm3,mlp}``, ``layer_norm``, ``classifier``), so
their weights map key for key.

Dropout sits where MMOCR 0.x puts it: after the embedding + positions, on the attention weights,
after each attention output projection and after the second FFN layer.
"""
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn

from .attention import attention
from .dropout import Dropout

#: Keys and values of one attention, each (N, n_head, L, d_k / d_v).
KV = Tuple[torch.Tensor, torch.Tensor]
#: What a layer's cross-attention reads: projected keys/values, or the memory (N, S, D) itself when
#: the projections are folded into the queries (:meth:`MultiHeadAttention.attend_memory`).
MemoryKV = Union[KV, torch.Tensor]


def sinusoid_table(n_position: int, d_hid: int) -> torch.Tensor:
    """Transformer sin/cos table, interleaved: channel ``2i`` is sin, ``2i + 1`` is cos.

    Computed as MMOCR 0.x does (frequencies in float64, cast to float32, angles in float32), so it
    equals the authors' ``position_table`` bit for bit.

    Args:
        n_position: Number of positions.
        d_hid: Channels.

    Returns:
        float32 tensor (1, n_position, d_hid).
    """
    channels = torch.arange(d_hid, dtype=torch.float64)
    inv_freq = (10000.0**(-2.0 * torch.div(channels, 2, rounding_mode='floor') / d_hid)).float()
    table = torch.arange(n_position, dtype=torch.float32)[:, None] * inv_freq[None, :]
    table[:, 0::2] = torch.sin(table[:, 0::2])
    table[:, 1::2] = torch.cos(table[:, 1::2])
    return table.unsqueeze(0)


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table (persistent buffer ``position_table``) to token embeddings.

    Args:
        d_hid: Channels.
        n_position: Longest sequence supported.
    """

    def __init__(self, d_hid: int, n_position: int = 200) -> None:
        super().__init__()
        self.register_buffer('position_table', sinusoid_table(n_position, d_hid))

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """(N, T, D) embeddings of positions ``offset .. offset + T - 1`` -> (N, T, D)."""
        end = offset + x.shape[1]
        if end > self.position_table.shape[1]:
            raise ValueError(f'position {end - 1} exceeds the table of {self.position_table.shape[1]} positions')
        return x + self.position_table[:, offset:end]


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate q/k/v projections (``linear_q/k/v``) and output ``fc``.

    Keys/values are projected by :meth:`project_kv` and attended by :meth:`attend`, so callers can
    cache them (memory once per image, self-attention step by step).

    Args:
        d_model: Input and output width.
        n_head: Heads.
        d_k: Query/key width per head.
        d_v: Value width per head.
        dropout: Dropout on attention weights and after ``fc`` (training only).
        qkv_bias: Bias in the four projections (the authors have none).
    """

    def __init__(self, d_model: int = 512, n_head: int = 8, d_k: int = 64, d_v: int = 64, dropout: float = 0.1,
                 qkv_bias: bool = False) -> None:
        super().__init__()
        self.n_head, self.d_k, self.d_v = n_head, d_k, d_v
        self.linear_q = nn.Linear(d_model, n_head * d_k, bias=qkv_bias)
        self.linear_k = nn.Linear(d_model, n_head * d_k, bias=qkv_bias)
        self.linear_v = nn.Linear(d_model, n_head * d_v, bias=qkv_bias)
        self.fc = nn.Linear(n_head * d_v, d_model, bias=qkv_bias)
        self.attn_drop = dropout
        self.proj_drop = Dropout(dropout)

    def _heads(self, x: torch.Tensor, width: int) -> torch.Tensor:
        """(N, L, H * width) -> (N, H, L, width)."""
        return x.view(x.shape[0], x.shape[1], self.n_head, width).transpose(1, 2)

    def project_kv(self, x: torch.Tensor) -> KV:
        """Keys and values of ``x`` (N, L, D): (N, H, L, d_k) and (N, H, L, d_v)."""
        return self._heads(self.linear_k(x), self.d_k), self._heads(self.linear_v(x), self.d_v)

    def attend(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
               attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Queries from ``x`` attend to projected keys/values.

        The rows of ``x`` may come in groups of G consecutive rows that share one sequence of keys
        and values (the beams of one image in beam search): their queries are attended together as
        G * Lq queries, so the keys/values are neither copied nor re-read per row.

        Args:
            x: Query input (N * G, Lq, D).
            keys: (N, H, Lk, d_k).
            values: (N, H, Lk, d_v).
            attn_mask: Bool mask broadcastable to (N, H, Lq, Lk), True = may attend; only with G = 1.

        Returns:
            (N * G, Lq, D).
        """
        rows, len_q, _ = x.shape
        n = keys.shape[0]
        if rows % n or (attn_mask is not None and rows != n):
            raise ValueError(f'{rows} query rows for {n} key sequences: the rows must be a multiple of the '
                             'sequences, and equal to them when a mask is given')
        queries = self._heads(self.linear_q(x).reshape(n, rows // n * len_q, -1), self.d_k)
        out = attention(queries, keys, values, attn_mask=attn_mask,
                        dropout_p=self.attn_drop if self.training else 0.0)
        return self.proj_drop(self.fc(out.transpose(1, 2).reshape(rows, len_q, -1)))

    def attend_memory(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Queries from ``x`` attend to an unprojected ``memory``: the key/value projections are folded in.

        Computes what ``attend(x, *project_kv(memory))`` computes, up to rounding, without projecting
        the memory: head ``h`` scores ``(q_h W_k,h) . m`` and returns ``(sum_j p_j m_j) W_v,h^T + b_v,h``
        (a key bias adds the same score to every key, which the softmax ignores). The memory is read
        once for all heads. Per image this costs about ``queries x H x S x D`` multiply-adds instead
        of the projection's ``2 x S x D x H x d_k``: cheaper when an image's queries over a whole
        decode number fewer than ``d_k`` (greedy decoding: 25 or 40 steps, d_k = 64). Without a
        mask or attention dropout (decoding).

        Args:
            x: Query input (N * G, Lq, D), G consecutive rows per memory as in :meth:`attend`.
            memory: (N, S, D).

        Returns:
            (N * G, Lq, D).
        """
        rows, len_q, _ = x.shape
        n, _, width = memory.shape
        if rows % n:
            raise ValueError(f'{rows} query rows for {n} memories: the rows must be a multiple of the memories')
        queries = self.linear_q(x).reshape(n, rows // n * len_q, self.n_head, self.d_k) * self.d_k**-0.5
        folded = torch.einsum('nqhk,hkd->nhqd', queries, self.linear_k.weight.view(self.n_head, self.d_k, width))
        probs = torch.bmm(folded.reshape(n, -1, width), memory.transpose(1, 2)).softmax(-1)
        context = torch.bmm(probs, memory).view(folded.shape)  # (N, H, Q, D): sum_j p_j m_j
        out = torch.einsum('nhqd,hvd->nqhv', context, self.linear_v.weight.view(self.n_head, self.d_v, width))
        if self.linear_v.bias is not None:
            out = out + self.linear_v.bias.view(self.n_head, self.d_v)
        return self.proj_drop(self.fc(out.reshape(rows, len_q, -1)))


class PositionwiseFeedForward(nn.Module):
    """``w_2(GELU(w_1(x)))`` followed by dropout.

    Args:
        d_in: Input/output width.
        d_hid: Hidden width.
        dropout: Dropout after ``w_2``.
    """

    def __init__(self, d_in: int, d_hid: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.w_1 = nn.Linear(d_in, d_hid)
        self.act = nn.GELU()
        self.w_2 = nn.Linear(d_hid, d_in)
        self.dropout = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., d_in) -> (..., d_in)."""
        return self.dropout(self.w_2(self.act(self.w_1(x))))


class KVCache:
    """Self-attention keys/values of every decoder layer, preallocated for ``max_len`` steps.

    The buffers are allocated at the first :meth:`append`, with the device and dtype of the keys
    (which follow autocast).

    Args:
        n_layers: Decoder layers.
        max_len: Steps to hold.
    """

    def __init__(self, n_layers: int, max_len: int) -> None:
        self.n_layers = n_layers
        self.max_len = max_len
        self.keys: Optional[torch.Tensor] = None  # (n_layers, N, H, max_len, d_k)
        self.values: Optional[torch.Tensor] = None  # (n_layers, N, H, max_len, d_v)
        self.length = 0

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
            self.keys = self.keys.index_select(1, index)
            self.values = self.values.index_select(1, index)


class TFDecoderLayer(nn.Module):
    """Pre-norm decoder layer: ``x += SA(LN1(x)); x += CA(LN2(x), mem); x += FFN(LN3(x))``.

    Args:
        d_model: Width.
        d_inner: FFN hidden width.
        n_head: Heads.
        d_k: Query/key width per head.
        d_v: Value width per head.
        dropout: Dropout rate.
        qkv_bias: Bias in attention projections.
        norm_eps: LayerNorm epsilon (the authors' layers use PyTorch's default 1e-5).
    """

    def __init__(self, d_model: int = 512, d_inner: int = 256, n_head: int = 8, d_k: int = 64, d_v: int = 64,
                 dropout: float = 0.1, qkv_bias: bool = False, norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model, eps=norm_eps)
        self.self_attn = MultiHeadAttention(d_model, n_head, d_k, d_v, dropout, qkv_bias)
        self.norm2 = nn.LayerNorm(d_model, eps=norm_eps)
        self.enc_attn = MultiHeadAttention(d_model, n_head, d_k, d_v, dropout, qkv_bias)
        self.norm3 = nn.LayerNorm(d_model, eps=norm_eps)
        self.mlp = PositionwiseFeedForward(d_model, d_inner, dropout)

    def forward(self, x: torch.Tensor, memory_kv: MemoryKV, self_mask: Optional[torch.Tensor] = None,
                cache: Optional[KVCache] = None, layer: int = 0) -> torch.Tensor:
        """Run the layer on the whole target sequence or, with ``cache``, on new positions only.

        Args:
            x: Targets (N, T, D).
            memory_kv: Cross-attention keys/values of the memory (:meth:`MultiHeadAttention.project_kv`) or
                the memory itself (:meth:`MultiHeadAttention.attend_memory`).
            self_mask: Bool self-attention mask, broadcastable to (N, H, T, T_keys), True = may attend.
            cache: Self-attention cache; the new keys/values are appended and all cached ones attended.
            layer: Index of this layer in ``cache``.

        Returns:
            (N, T, D).
        """
        h = self.norm1(x)
        keys, values = self.self_attn.project_kv(h)
        if cache is not None:
            keys, values = cache.append(layer, keys, values)
        x = x + self.self_attn.attend(h, keys, values, self_mask)
        h = self.norm2(x)
        if isinstance(memory_kv, torch.Tensor):
            x = x + self.enc_attn.attend_memory(h, memory_kv)
        else:
            x = x + self.enc_attn.attend(h, *memory_kv)
        return x + self.mlp(self.norm3(x))


def target_mask(lengths: torch.Tensor, num_steps: int) -> torch.Tensor:
    """The authors' self-attention mask: causal AND key index < target length.

    Args:
        lengths: Target lengths (characters + EOS), int (N,). Values below 1 are treated as 1 so that
            every query keeps at least the BOS key.
        num_steps: Target steps T.

    Returns:
        Bool (N, 1, T, T), True = may attend.
    """
    steps = torch.arange(num_steps, device=lengths.device)
    causal = steps[None, :] <= steps[:, None]
    within = steps[None, :] < lengths.clamp(min=1)[:, None]
    return (causal[None] & within[:, None, :]).unsqueeze(1)


class TransformerTextDecoder(nn.Module):
    """Token embedding + sinusoidal positions + pre-norm layers + final LayerNorm + classifier.

    The embedding has ``num_classes + 1`` rows; the last one, ``bos_idx = num_classes``, is the
    input-only start token.

    Args:
        num_classes: Output classes (characters and EOS / padding / unknown).
        n_layers: Decoder layers.
        d_model: Width (also the embedding width).
        n_head: Heads.
        d_k: Query/key width per head.
        d_v: Value width per head.
        d_inner: FFN hidden width.
        n_position: Rows of the position table (longest target).
        dropout: Dropout rate.
        qkv_bias: Bias in attention projections.
        layer_norm_eps: LayerNorm epsilon inside the layers.
        final_norm_eps: Epsilon of the final LayerNorm.
    """

    def __init__(self, num_classes: int, n_layers: int = 6, d_model: int = 512, n_head: int = 8, d_k: int = 64,
                 d_v: int = 64, d_inner: int = 256, n_position: int = 200, dropout: float = 0.1,
                 qkv_bias: bool = False, layer_norm_eps: float = 1e-5, final_norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.bos_idx = num_classes
        self.trg_word_emb = nn.Embedding(num_classes + 1, d_model)
        self.position_enc = PositionalEncoding(d_model, n_position)
        self.dropout = Dropout(dropout)
        self.layer_stack = nn.ModuleList([
            TFDecoderLayer(d_model, d_inner, n_head, d_k, d_v, dropout, qkv_bias, layer_norm_eps)
            for _ in range(n_layers)
        ])
        self.layer_norm = nn.LayerNorm(d_model, eps=final_norm_eps)
        self.classifier = nn.Linear(d_model, num_classes)

    @property
    def max_steps(self) -> int:
        """Longest target the position table supports."""
        return self.position_enc.position_table.shape[1]

    def memory_kv(self, memory: torch.Tensor, queries_per_image: Optional[int] = None) -> List[MemoryKV]:
        """What every layer's cross-attention reads of ``memory`` (N, S, D), prepared once per image.

        Args:
            memory: Encoder output (N, S, D).
            queries_per_image: Most cross-attention queries an image will make with the result (e.g.
                steps x beams), or None.

        Returns:
            One entry per layer: the memory itself, for :meth:`MultiHeadAttention.attend_memory`, when
            an image makes fewer queries than ``d_k`` (folding then does fewer multiply-adds than
            projecting) and the batch's memory has at least as many tokens as the folded weights
            ``H x (d_k + d_v)`` have rows (each step re-reads those weights; for one image they
            would cost more than they save); else the projected keys/values.
        """
        attn = self.layer_stack[0].enc_attn
        fold = (queries_per_image is not None and queries_per_image < attn.d_k
                and memory.shape[0] * memory.shape[1] >= attn.n_head * (attn.d_k + attn.d_v))
        return [memory if fold else layer.enc_attn.project_kv(memory) for layer in self.layer_stack]

    def new_cache(self, max_len: int) -> KVCache:
        """An empty self-attention cache for up to ``max_len`` steps."""
        return KVCache(len(self.layer_stack), max_len)

    def _decode(self, tokens: torch.Tensor, memory_kv: List[MemoryKV], self_mask: Optional[torch.Tensor] = None,
                cache: Optional[KVCache] = None) -> torch.Tensor:
        """Embed ``tokens`` (N, T) at the cache's position, run the layers -> logits (N, T, C)."""
        offset = cache.length if cache is not None else 0
        x = self.dropout(self.position_enc(self.trg_word_emb(tokens), offset))
        for i, layer in enumerate(self.layer_stack):
            x = layer(x, memory_kv[i], self_mask, cache, i)
        if cache is not None:
            cache.advance(tokens.shape[1])
        return self.classifier(self.layer_norm(x))

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor,
                lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Teacher forcing.

        Args:
            tokens: Decoder input [BOS, y1 .. y_{T-1}], int64 (N, T).
            memory: Encoder output (N, S, D).
            lengths: Target lengths (characters + EOS), (N,); keys at or beyond them are masked
                (the authors' mask). None: causal mask only.

        Returns:
            Logits (N, T, num_classes).
        """
        steps = tokens.shape[1]
        mask = target_mask(lengths, steps) if lengths is not None else \
            torch.ones(steps, steps, dtype=torch.bool, device=tokens.device).tril()
        return self._decode(tokens, self.memory_kv(memory), mask)

    def step(self, tokens: torch.Tensor, memory_kv: List[MemoryKV], cache: KVCache) -> torch.Tensor:
        """One decoding step with cached keys/values.

        Args:
            tokens: The latest token of each sequence, int64 (N,).
            memory_kv: From :meth:`memory_kv`.
            cache: Self-attention cache holding the previous steps; advanced by one.

        Returns:
            Logits of the next token (N, num_classes).
        """
        return self._decode(tokens[:, None], memory_kv, cache=cache)[:, 0]


__all__ = [
    'KV', 'KVCache', 'MemoryKV', 'MultiHeadAttention', 'PositionalEncoding', 'PositionwiseFeedForward',
    'TFDecoderLayer', 'TransformerTextDecoder', 'sinusoid_table', 'target_mask'
]
