"""Cached greedy and beam-search decoding of :class:`TransformerTextDecoder` (:meth:`~TransformerTextDecoder.step`). A
sequence's score is the sum of its tokens' log-probabilities up to and including the first EOS (the log-probability of
the whole word, no length normalisation), or over all ``max_len`` steps without EOS."""
from typing import Tuple

import torch

from .text_decoder import TransformerTextDecoder


@torch.no_grad()
def greedy_decode(decoder: TransformerTextDecoder, memory: torch.Tensor, max_len: int, eos_idx: int,
                  stop_at_eos: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding from BOS; returns ids (N, T) and per-step class probabilities (N, T, num_classes), T <= max_len.

    Args:
        memory: Encoder output (N, S, D).
        max_len: Most steps (25 English, 40 Chinese).
        eos_idx: End token.
        stop_at_eos: Stop once every sequence has emitted EOS (earlier-ended ones go on, as in a full run, until then).
    """
    cache = decoder.new_cache(max_len)
    memory_kv = decoder.memory_kv(memory, queries_per_image=max_len)
    tokens = torch.full(memory.shape[:1], decoder.bos_idx, dtype=torch.long, device=memory.device)
    ended = torch.zeros_like(tokens, dtype=torch.bool)
    ids, probs = [], []
    for _ in range(max_len):
        step_probs = decoder.step(tokens, memory_kv, cache).float().softmax(-1)
        tokens = step_probs.argmax(-1)
        ids.append(tokens)
        probs.append(step_probs)
        ended |= tokens == eos_idx
        if stop_at_eos and bool(ended.all()):
            break
    return torch.stack(ids, 1), torch.stack(probs, 1)


@torch.no_grad()
def beam_search(decoder: TransformerTextDecoder, memory: torch.Tensor, max_len: int, eos_idx: int,
                beam_width: int, stop_at_eos: bool = True) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Beam search, batched over samples x beams, with the key/value cache reordered to each beam's parent; returns
    ids (N, T) of the best beam, the probability of each of its tokens (N, T) (1 after its EOS), and its score (N,)
    (see the module docstring), T <= ``max_len``.

    A finished beam (it emitted EOS) is extended by EOS at no cost, so its score stays fixed and it competes with the
    live beams until the end. Beams are kept sorted by score; since scores only fall, decoding stops (``stop_at_eos``)
    once every sample's best beam has finished. Width 1 is greedy decoding. ``memory``, ``max_len`` and ``eos_idx`` are
    as in :func:`greedy_decode`; ``beam_width`` (beams per sample) is in [1, num_classes].
    """
    cache = decoder.new_cache(max_len)
    classes = decoder.num_classes
    if not 1 <= beam_width <= classes:
        raise ValueError(f'beam_width must be in [1, {classes}], got {beam_width}')
    n, device = memory.shape[0], memory.device
    memory_kv = decoder.memory_kv(memory, queries_per_image=max_len * beam_width)  # shared by a sample's beams
    first_beam = torch.arange(n, device=device)[:, None] * beam_width  # (N, 1) row of each sample's beam 0
    # Only beam 0 is alive at the start, so the first step does not pick one token several times.
    scores = torch.full((n, beam_width), float('-inf'), device=device)
    scores[:, 0] = 0
    tokens = torch.full((n * beam_width, ), decoder.bos_idx, dtype=torch.long, device=device)
    finished = torch.zeros(n * beam_width, dtype=torch.bool, device=device)
    ids = tokens.new_empty(n * beam_width, 0)
    token_probs = scores.new_empty(n * beam_width, 0)
    after_end = torch.full((classes, ), float('-inf'), device=device)
    after_end[eos_idx] = 0
    for _ in range(max_len):
        log_probs = decoder.step(tokens, memory_kv, cache).float().log_softmax(-1)
        log_probs = torch.where(finished[:, None], after_end, log_probs)
        candidates = (scores.view(-1, 1) + log_probs).view(n, beam_width * classes)
        scores, flat = candidates.topk(beam_width, dim=1)
        parents = (first_beam + torch.div(flat, classes, rounding_mode='floor')).view(-1)
        tokens = (flat % classes).view(-1)
        cache.reorder(parents)
        ids = torch.cat([ids[parents], tokens[:, None]], 1)
        token_probs = torch.cat([token_probs[parents], log_probs[parents, tokens].exp()[:, None]], 1)
        finished = finished[parents] | (tokens == eos_idx)
        if stop_at_eos and bool(finished[first_beam[:, 0]].all()):
            break
    best = first_beam[:, 0]
    return ids[best], token_probs[best], scores[:, 0]
