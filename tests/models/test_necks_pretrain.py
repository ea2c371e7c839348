"""Decoders of the pretraining algorithms: MAE pixel decoder and LMIM's alignment decoder."""
import pytest
import torch
import torch.nn as nn
from mmpretrain.models.necks import MAEPretrainDecoder

from lmim_mm.models.backbones.text_vit import sincos_2d_table
from lmim_mm.models.necks import AlignmentDecoder, TextMAEDecoder


def masked_latent(n: int, dim: int, num_keep: int, length: int = 256):
    """[cls] + visible tokens, ids_restore and the full token sequence they come from."""
    full = torch.randn(n, length, dim)
    ids_shuffle = torch.stack([torch.randperm(length) for _ in range(n)])
    visible = torch.gather(full, 1, ids_shuffle[:, :num_keep, None].expand(-1, -1, dim))
    return torch.cat([torch.randn(n, 1, dim), visible], 1), torch.argsort(ids_shuffle, 1), full


def test_mae_decoder_is_mmpretrains_with_the_text_table():
    torch.manual_seed(0)
    ours = TextMAEDecoder(in_channels=24, embed_dim=16, depth=1, num_heads=2, out_channels=48, pos_grid='true').eval()
    ours.init_weights()
    assert torch.equal(ours.decoder_pos_embed, sincos_2d_table(16, (8, 32), 'true'))
    ref = MAEPretrainDecoder(num_patches=256, embed_dim=24, decoder_embed_dim=16, decoder_depth=1,
                             decoder_num_heads=2, predict_feature_dim=48).eval()
    ref.load_state_dict(ours.state_dict())
    latent, ids_restore, _ = masked_latent(2, 24, 51)
    torch.testing.assert_close(ours(latent, ids_restore), ref(latent, ids_restore))
    assert ours(latent, ids_restore).shape == (2, 256, 48)


def test_alignment_queries_put_tokens_back_and_fill_mask_tokens():
    dec = AlignmentDecoder(in_channels=8, embed_dim=8, depth=1, num_heads=2, ffn_dim=16)
    dec.decoder_embed = nn.Identity()
    nn.init.constant_(dec.mask_token, 7.0)
    latent, ids_restore, full = masked_latent(2, 8, 100)
    queries = dec.queries(latent, ids_restore) - dec.decoder_pos_embed
    visible = ids_restore < 100
    torch.testing.assert_close(queries[:, 0], latent[:, 0])
    torch.testing.assert_close(queries[:, 1:][visible], full[visible])
    assert bool((queries[:, 1:][~visible] == 7.0).all())


def test_alignment_layers_are_the_authors_torch_layers():
    dec = AlignmentDecoder(in_channels=24, embed_dim=16, depth=2, num_heads=2, ffn_dim=32, dropout=0.1)
    layer = dec.decoder_blocks[0]
    assert isinstance(layer, nn.TransformerDecoderLayer) and layer.norm_first is False
    assert layer.linear1.out_features == 32 and layer.norm1.eps == 1e-6 and layer.self_attn.batch_first


@pytest.mark.parametrize('pos_grid', ['true', 'legacy'])
def test_decoders_predict_every_patch(pos_grid):
    latent, ids_restore, _ = masked_latent(2, 24, 51)
    mae = TextMAEDecoder(in_channels=24, embed_dim=16, depth=1, num_heads=2, out_channels=48, pos_grid=pos_grid)
    assert mae(latent, ids_restore).shape == (2, 256, 48)
    align = AlignmentDecoder(in_channels=24, embed_dim=16, depth=1, num_heads=2, ffn_dim=32, pos_grid=pos_grid)
    assert align(latent, ids_restore, torch.randn(2, 257, 24)).shape == (2, 256, 24)


def test_alignment_dropout_only_in_training():
    dec = AlignmentDecoder(in_channels=8, embed_dim=16, depth=1, num_heads=2, ffn_dim=32, dropout=0.5)
    latent, ids_restore, _ = masked_latent(2, 8, 9)
    memory = torch.randn(2, 257, 8)
    assert not torch.allclose(dec(latent, ids_restore, memory), dec(latent, ids_restore, memory))
    dec.eval()
    torch.testing.assert_close(dec(latent, ids_restore, memory), dec(latent, ids_restore, memory))


@pytest.mark.parametrize('decoder', [TextMAEDecoder, AlignmentDecoder])
def test_decoder_rejects_wrong_token_count(decoder):
    dec = decoder(in_channels=8, embed_dim=8, depth=1, num_heads=2)
    with pytest.raises(ValueError, match='decoder expects 256'):
        dec(torch.randn(1, 5, 8), torch.arange(128)[None], *([torch.randn(1, 129, 8)] if decoder is AlignmentDecoder
                                                            else []))


def test_prediction_depends_on_memory_only_through_cross_attention():
    torch.manual_seed(0)
    dec = AlignmentDecoder(in_channels=8, embed_dim=16, depth=2, num_heads=2, ffn_dim=32).eval()
    latent, ids_restore = torch.randn(1, 10, 8), torch.randperm(256)[None]
    memory = torch.randn(1, 257, 8)
    shuffled = memory[:, torch.randperm(257)]  # no positions on the memory side: order does not matter
    torch.testing.assert_close(dec(latent, ids_restore, memory), dec(latent, ids_restore, shuffled))
    assert not torch.allclose(dec(latent, ids_restore, memory), dec(latent, ids_restore, memory + 1))
