"""Decoders of the pretraining algorithms: MAE pixel decoder and LMIM's alignment decoder."""
import pytest
import torch
import torch.nn as nn

from lmim_mm.converters.lmim_pretrain import convert_lmim_pretrain
from lmim_mm.models.necks import AlignmentDecoder, AlignmentDecoderLayer, CrossAttention, TextMAEDecoder
from lmim_mm.models.necks.mae_decoder import restore_sequence


def test_restore_sequence_puts_tokens_back_and_fills_mask_tokens():
    n, length, dim = 2, 10, 3
    mask = torch.zeros(n, length, dtype=torch.bool)
    mask[0, [1, 4, 5, 9]] = True
    mask[1, [0, 2, 3, 7]] = True
    ids_shuffle = torch.argsort(mask.to(torch.uint8), dim=1, stable=True)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    full = torch.randn(n, length, dim)
    visible = torch.gather(full, 1, ids_shuffle[:, :6, None].expand(-1, -1, dim))
    cls = torch.randn(n, 1, dim)
    mask_token = torch.full((1, 1, dim), 7.0)
    out = restore_sequence(torch.cat([cls, visible], 1), mask_token, ids_restore)
    assert out.shape == (n, 1 + length, dim)
    torch.testing.assert_close(out[:, 0], cls[:, 0])
    torch.testing.assert_close(out[:, 1:][~mask], full[~mask])
    assert bool((out[:, 1:][mask] == 7.0).all())


def _torch_layer(dim, heads, ffn):
    return nn.TransformerDecoderLayer(dim, heads, ffn, dropout=0.1, activation='gelu', layer_norm_eps=1e-6,
                                      batch_first=True)


def _to_ours(torch_sd):
    """An ``nn.TransformerDecoderLayer`` state dict through the authors' checkpoint converter."""
    converted, _ = convert_lmim_pretrain({f'decoder_blocks.0.{k}': v for k, v in torch_sd.items()})
    return {k[len('neck.decoder_blocks.0.'):]: v for k, v in converted.items()}


def test_alignment_layer_equals_torch_transformer_decoder_layer():
    torch.manual_seed(0)
    ref = _torch_layer(32, 4, 64).eval()
    ours = AlignmentDecoderLayer(32, 4, 64, dropout=0.1).eval()
    ours.load_state_dict(_to_ours(ref.state_dict()))
    x, memory = torch.randn(3, 17, 32), torch.randn(3, 9, 32)
    torch.testing.assert_close(ours(x, memory), ref(x, memory), atol=1e-5, rtol=1e-5)


def test_cross_attention_equals_nn_multihead_attention():
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    ours = CrossAttention(16, 4)
    ours.q.weight.data, ours.kv.weight.data = ref.in_proj_weight.data[:16], ref.in_proj_weight.data[16:]
    ours.q.bias.data, ours.kv.bias.data = ref.in_proj_bias.data[:16], ref.in_proj_bias.data[16:]
    ours.proj.load_state_dict(ref.out_proj.state_dict())
    x, memory = torch.randn(2, 5, 16), torch.randn(2, 11, 16)
    torch.testing.assert_close(ours(x, memory), ref(x, memory, memory, need_weights=False)[0])


def test_alignment_layer_dropout_only_in_training():
    layer = AlignmentDecoderLayer(16, 2, 32, dropout=0.5)
    x, memory = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    layer.train()
    assert not torch.allclose(layer(x, memory), layer(x, memory))
    layer.eval()
    torch.testing.assert_close(layer(x, memory), layer(x, memory))


@pytest.mark.parametrize('pos_grid', ['true', 'legacy'])
def test_decoders_predict_every_patch(pos_grid):
    n, keep = 2, 51
    latent = torch.randn(n, 1 + keep, 24)
    ids_restore = torch.stack([torch.randperm(256) for _ in range(n)])
    mae = TextMAEDecoder(in_channels=24, embed_dim=16, depth=1, num_heads=2, out_channels=48, pos_grid=pos_grid)
    assert mae(latent, ids_restore).shape == (n, 256, 48)
    align = AlignmentDecoder(in_channels=24, embed_dim=16, depth=1, num_heads=2, ffn_dim=32, pos_grid=pos_grid)
    assert align(latent, ids_restore, torch.randn(n, 257, 24)).shape == (n, 256, 24)


def test_decoder_rejects_wrong_token_count():
    dec = TextMAEDecoder(in_channels=8, embed_dim=8, depth=1, num_heads=2)
    with pytest.raises(ValueError, match='decoder expects 256'):
        dec(torch.randn(1, 5, 8), torch.arange(128)[None])


def test_prediction_depends_on_memory_only_through_cross_attention():
    torch.manual_seed(0)
    dec = AlignmentDecoder(in_channels=8, embed_dim=16, depth=2, num_heads=2, ffn_dim=32).eval()
    latent, ids_restore = torch.randn(1, 10, 8), torch.randperm(256)[None]
    memory = torch.randn(1, 257, 8)
    shuffled = memory[:, torch.randperm(257)]  # no positions on the memory side: order does not matter
    torch.testing.assert_close(dec(latent, ids_restore, memory), dec(latent, ids_restore, shuffled))
    assert not torch.allclose(dec(latent, ids_restore, memory), dec(latent, ids_restore, memory + 1))
