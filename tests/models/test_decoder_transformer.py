"""Decoding of the recognizer's Transformer decoder: cached greedy, beam search, masks."""
import pytest
import torch
from mmocr.models.common.modules import MultiHeadAttention

from lmim_mm.models.layers.text_decoder import TransformerTextDecoder, attend, attend_memory, project_kv, target_mask
from lmim_mm.models.layers.text_decoding import beam_search, greedy_decode
from lmim_reference.recognizer import ReferenceDecoder

EOS = 3
MAX_LEN = 20


def first_eos_mask(ids: torch.Tensor, eos_idx: int) -> torch.Tensor:
    """Bool (N, T): which steps of ``ids`` (N, T) belong to the word, all up to and including the first EOS."""
    is_eos = (ids == eos_idx).long()
    return (is_eos.cumsum(1) - is_eos) == 0


def sequence_log_prob(token_probs: torch.Tensor, ids: torch.Tensor, eos_idx: int) -> torch.Tensor:
    """Scores (N,) of words ``ids`` (N, T) whose tokens had probabilities ``token_probs`` (N, T): the sum of
    the log-probabilities up to and including the first EOS (the module docstring of ``text_decoding``)."""
    keep = first_eos_mask(ids, eos_idx)
    return torch.where(keep, token_probs.float().log(), torch.zeros_like(token_probs, dtype=torch.float32)).sum(1)


def tiny_decoder(seed: int, eos_bias: float = 0.5, n_head: int = 4) -> TransformerTextDecoder:
    """Random tiny decoder (7 classes, width 32); the EOS bias makes sequences end at various steps."""
    torch.manual_seed(seed)
    decoder = TransformerTextDecoder(7, n_layers=2, d_model=32, n_head=n_head, d_k=32 // n_head, d_v=32 // n_head,
                                     d_inner=16).eval()
    with torch.no_grad():
        decoder.classifier.bias[EOS] += eos_bias
    return decoder


def teacher_forced_token_probs(decoder: TransformerTextDecoder, memory: torch.Tensor,
                               ids: torch.Tensor) -> torch.Tensor:
    """Probability of each token of ``ids`` (N, T) when the decoder reads [BOS, ids[:-1]]."""
    tokens = torch.cat([torch.full_like(ids[:, :1], decoder.bos_idx), ids[:, :-1]], dim=1)
    with torch.no_grad():
        probs = decoder(tokens, memory).softmax(-1)
    return probs.gather(2, ids[..., None])[..., 0]


def test_position_table_interleaves_sin_and_cos():
    table = tiny_decoder(0).position_enc.position_table[0, :50, :16]
    pos = torch.arange(50, dtype=torch.float64)[:, None]
    freq = 10000.0**(-torch.arange(0, 16, 2, dtype=torch.float64) / 32)
    torch.testing.assert_close(table[:, 0::2].double(), torch.sin(pos * freq), atol=1e-5, rtol=0)
    torch.testing.assert_close(table[:, 1::2].double(), torch.cos(pos * freq), atol=1e-5, rtol=0)


def test_target_mask_is_causal_and_cut_at_length():
    mask = target_mask(torch.tensor([2, 4, 0]), 4)[:, 0]
    assert mask.shape == (3, 4, 4)
    assert mask[0].tolist() == [[True, False, False, False], [True, True, False, False],
                                [True, True, False, False], [True, True, False, False]]
    assert mask[1].equal(torch.ones(4, 4, dtype=torch.bool).tril())
    assert mask[2, :, 0].all() and not mask[2, :, 1:].any()  # length 0 keeps the BOS key


@pytest.mark.parametrize('seed', range(6))
def test_cached_greedy_equals_full_rerun(seed):
    decoder = tiny_decoder(seed)
    memory = torch.randn(4, 9, 32) * 3
    ids, probs = greedy_decode(decoder, memory, MAX_LEN, EOS)
    full_ids, full_probs = greedy_decode(decoder, memory, MAX_LEN, EOS, stop_at_eos=False)
    expected, expected_probs = ReferenceDecoder(decoder).greedy(memory, MAX_LEN)
    assert full_ids.equal(expected)
    torch.testing.assert_close(full_probs, expected_probs, atol=1e-5, rtol=0)
    steps = ids.shape[1]
    assert ids.equal(expected[:, :steps]) and probs.equal(full_probs[:, :steps])
    ended = (expected == EOS).any(1)
    stop = int(first_eos_mask(expected, EOS).sum(1).max()) if bool(ended.all()) else MAX_LEN
    assert steps == stop
    torch.testing.assert_close(probs.sum(-1), torch.ones(4, steps))


@pytest.mark.parametrize('qkv_bias', [False, True])
@pytest.mark.parametrize('group', [1, 3])
def test_attend_memory_folds_the_projections(qkv_bias, group):
    torch.manual_seed(0)
    attn = MultiHeadAttention(n_head=4, d_model=32, d_k=8, d_v=8, qkv_bias=qkv_bias).eval()
    memory, x = torch.randn(5, 9, 32), torch.randn(5 * group, 2, 32)
    torch.testing.assert_close(attend_memory(attn, x, memory), attend(attn, x, *project_kv(attn, memory)))
    with pytest.raises(ValueError, match='must be a multiple'):
        attend_memory(attn, x[:4], memory)


def test_memory_kv_folds_only_for_few_queries_and_enough_memory():
    decoder, memory = tiny_decoder(0, n_head=1), torch.randn(8, 9, 32)  # 72 tokens >= 1 head x (32 + 32)
    assert all(isinstance(entry, torch.Tensor) for entry in decoder.memory_kv(memory, queries_per_image=MAX_LEN))
    for queries, images in ((None, 8), (32, 8), (MAX_LEN * 5, 8), (MAX_LEN, 7)):
        entries = decoder.memory_kv(memory[:images], queries_per_image=queries)
        assert all(isinstance(entry, tuple) for entry in entries)


@pytest.mark.parametrize('seed', range(3))
def test_folded_greedy_equals_full_rerun(seed):
    decoder = tiny_decoder(seed, n_head=1)  # MAX_LEN steps < d_k = 32 and 16 x 9 tokens: greedy decoding folds
    memory = torch.randn(16, 9, 32) * 3
    assert isinstance(decoder.memory_kv(memory, queries_per_image=MAX_LEN)[0], torch.Tensor)
    ids, probs = greedy_decode(decoder, memory, MAX_LEN, EOS, stop_at_eos=False)
    expected, expected_probs = ReferenceDecoder(decoder).greedy(memory, MAX_LEN)
    assert ids.equal(expected)
    torch.testing.assert_close(probs, expected_probs, atol=1e-5, rtol=0)
    beam_ids, _, _ = beam_search(decoder, memory, MAX_LEN, EOS, beam_width=1, stop_at_eos=False)
    word = first_eos_mask(expected, EOS)  # width 1 folds as well; after EOS a beam only repeats EOS
    assert beam_ids[word].equal(expected[word])


def test_greedy_stops_early_at_various_lengths():
    ids, _ = greedy_decode(tiny_decoder(5, eos_bias=0.7), torch.randn(4, 9, 32) * 3, MAX_LEN, EOS)
    lengths = first_eos_mask(ids, EOS).sum(1)
    assert ids.shape[1] < MAX_LEN and (ids == EOS).any(1).all() and len(set(lengths.tolist())) > 2


@pytest.mark.parametrize('seed', range(4))
def test_beam_width_one_is_greedy(seed):
    decoder = tiny_decoder(seed)
    memory = torch.randn(4, 9, 32) * 3
    ids, probs = greedy_decode(decoder, memory, MAX_LEN, EOS)
    beam_ids, beam_probs, scores = beam_search(decoder, memory, MAX_LEN, EOS, beam_width=1)
    keep = first_eos_mask(ids, EOS)
    assert beam_ids.shape == ids.shape and beam_ids[keep].equal(ids[keep])
    greedy_token_probs = probs.gather(2, ids[..., None])[..., 0]
    torch.testing.assert_close(beam_probs[keep], greedy_token_probs[keep])
    torch.testing.assert_close(scores, sequence_log_prob(greedy_token_probs, ids, EOS), atol=1e-5, rtol=0)


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('width', [2, 5])
def test_beam_search_scores_and_reordered_cache(seed, width):
    decoder = tiny_decoder(seed)
    memory = torch.randn(4, 9, 32) * 3
    ids, probs = greedy_decode(decoder, memory, MAX_LEN, EOS)
    greedy_score = sequence_log_prob(probs.gather(2, ids[..., None])[..., 0], ids, EOS)
    beam_ids, beam_probs, scores = beam_search(decoder, memory, MAX_LEN, EOS, beam_width=width)
    assert (scores >= greedy_score - 1e-5).all()
    # Re-reading the returned words with teacher forcing gives the probabilities the beams carried:
    # only true if every beam's cached keys/values followed its parents.
    keep = first_eos_mask(beam_ids, EOS)
    forced = teacher_forced_token_probs(decoder, memory, beam_ids)
    torch.testing.assert_close(beam_probs[keep], forced[keep], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(scores, sequence_log_prob(forced, beam_ids, EOS), atol=1e-4, rtol=0)
    assert (beam_probs[~keep] == 1).all() and (beam_ids[~keep] == EOS).all()


def test_beam_search_finds_better_words_than_greedy():
    gains = []
    for seed in range(4):
        decoder = tiny_decoder(seed)
        memory = torch.randn(4, 9, 32) * 3
        ids, probs = greedy_decode(decoder, memory, MAX_LEN, EOS)
        _, _, scores = beam_search(decoder, memory, MAX_LEN, EOS, beam_width=4)
        gains.append(scores - sequence_log_prob(probs.gather(2, ids[..., None])[..., 0], ids, EOS))
    assert (torch.cat(gains) > 1e-3).any()


def test_decoding_rejects_bad_arguments():
    decoder = tiny_decoder(0)
    memory = torch.randn(2, 9, 32)
    with pytest.raises(ValueError, match='beam_width'):
        beam_search(decoder, memory, 5, EOS, beam_width=8)
    with pytest.raises(ValueError, match='max_len'):
        greedy_decode(decoder, memory, 201, EOS)


def test_training_mode_backpropagates_through_every_parameter():
    decoder = tiny_decoder(0).train()
    tokens = torch.randint(0, 8, (3, 6))
    logits = decoder(tokens, torch.randn(3, 9, 32), torch.tensor([6, 3, 1]))
    assert logits.shape == (3, 6, 7)
    logits.logsumexp(-1).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in decoder.parameters())


def test_rejects_widths_mmocr_attention_cannot_take():
    with pytest.raises(ValueError, match='n_head \\* d_k'):
        TransformerTextDecoder(7, d_model=32, n_head=4, d_k=8, d_v=6)


def test_teacher_forcing_is_mmocr_layers_and_cached_steps_agree():
    decoder, memory = tiny_decoder(1), torch.randn(3, 9, 32)
    tokens = torch.randint(0, 8, (3, 5))
    logits = decoder(tokens, memory)
    cache, memory_kv = decoder.new_cache(5), decoder.memory_kv(memory)
    with torch.no_grad():
        steps = torch.stack([decoder.step(tokens[:, t], memory_kv, cache) for t in range(5)], 1)
    torch.testing.assert_close(steps, logits.detach(), atol=1e-5, rtol=1e-5)
