"""Attention and dropout kernels: the CPU paths equal the explicit computations."""
import importlib

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from lmim_mm.models.layers.attention import BlockwiseDropoutAttention, attention
from lmim_mm.models.layers.dropout import Dropout, dropout_mask

attention_module = importlib.import_module('lmim_mm.models.layers.attention')  # the package exports the function


@pytest.fixture
def recorded_masks(monkeypatch):
    """Record every dropout mask the attention kernel draws (in order), and use blocks of 2 samples."""
    masks = []

    def record(shape, drop_prob, device=torch.device('cpu')):
        masks.append(dropout_mask(shape, drop_prob, device))
        return masks[-1]

    monkeypatch.setattr(attention_module, 'dropout_mask', record)
    monkeypatch.setattr(attention_module, 'BLOCK_BYTES', 2 * 3 * 5 * 7 * 8)  # 2 samples of (3, 5, 7) float64
    return masks


def explicit(query, key, value, drop, drop_prob, attn_mask=None):
    scores = query @ key.transpose(-2, -1) * query.shape[-1]**-0.5
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float('-inf'))
    return (scores.softmax(-1).masked_fill(drop, 0) / (1 - drop_prob)) @ value


@pytest.mark.parametrize('with_mask', [False, True])
def test_blockwise_dropout_matches_explicit_forward_and_backward(recorded_masks, with_mask):
    torch.manual_seed(0)
    q, k, v = (torch.randn(5, 3, n, 4, dtype=torch.float64, requires_grad=True) for n in (5, 7, 7))
    mask = torch.rand(5, 1, 5, 7) > 0.3 if with_mask else None
    if mask is not None:
        mask[..., 0] = True  # every query keeps a key
    out = attention(q, k, v, mask, dropout_p=0.3)
    assert len(recorded_masks) == 3  # blocks of 2 + 2 + 1 samples
    drop = torch.cat(recorded_masks)
    assert drop.shape == (5, 3, 5, 7) and drop.any() and not drop.all()
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), (q, k, v))
    expected = explicit(q, k, v, drop, 0.3, mask)
    expected_grads = torch.autograd.grad((expected * weights).sum(), (q, k, v))
    torch.testing.assert_close(out, expected)
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, want)


def test_blockwise_dropout_gradcheck(recorded_masks):
    torch.manual_seed(1)
    q, k, v = (torch.randn(3, 3, n, 4, dtype=torch.float64, requires_grad=True) for n in (5, 7, 7))

    def fixed_mask_attention(q, k, v):
        torch.manual_seed(2)  # the same masks at every evaluation
        return BlockwiseDropoutAttention.apply(q, k, v, None, 0.25)

    assert torch.autograd.gradcheck(fixed_mask_attention, (q, k, v))


@pytest.mark.parametrize('drop_prob', [0.1, 0.5])
def test_dropout_mask_rate_and_independence(drop_prob):
    torch.manual_seed(0)
    drop = dropout_mask((64, 1000, 16), drop_prob).float()
    assert drop.shape == (64, 1000, 16)
    assert abs(drop.mean().item() - drop_prob) < 0.003
    # the four 16-bit pieces of a 64-bit draw are used alike, and neighbours are uncorrelated
    per_piece = drop.flatten().view(-1, 4).mean(0)
    assert (per_piece - drop_prob).abs().max() < 0.005
    centred = drop.flatten() - drop.mean()
    assert abs((centred[1:] * centred[:-1]).mean().item()) < 0.003


def test_dropout_mask_follows_the_torch_seed_and_odd_sizes():
    torch.manual_seed(3)
    first = dropout_mask((7, 3), 0.5)
    torch.manual_seed(3)
    assert torch.equal(first, dropout_mask((7, 3), 0.5))
    assert not dropout_mask((5, ), 0.0).any() and dropout_mask((5, ), 1.0).all()


def test_dropout_module_zeroes_and_scales_like_nn_dropout():
    torch.manual_seed(0)
    x = torch.randn(200, 300, requires_grad=True)
    layer = Dropout(0.2)
    assert isinstance(layer, nn.Dropout) and repr(layer) == repr(nn.Dropout(0.2))
    out = layer(x)
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.8) < 0.01
    torch.testing.assert_close(out[kept], x[kept] / 0.8)
    out.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.8)
    layer.eval()
    assert layer(x) is x
    assert Dropout(1.0)(x).abs().sum() == 0


def test_without_dropout_it_is_sdpa():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 8) for n in (4, 6, 6))
    mask = torch.ones(4, 6, dtype=torch.bool).tril(2)
    torch.testing.assert_close(attention(q, k, v, mask), F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def test_bad_arguments_are_named():
    q = torch.randn(1, 1, 2, 4)
    with pytest.raises(ValueError, match='dropout_p'):
        attention(q, q, q, dropout_p=1.0)
    with pytest.raises(TypeError, match='bool'):
        attention(q, q, q, attn_mask=torch.zeros(2, 2))
