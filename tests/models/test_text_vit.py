import pytest
import torch

from lmim_mm.models.backbones import TextViT
from lmim_mm.models.layers.pos_embed import sincos_1d, sincos_2d_table


def tiny_vit(**kwargs) -> TextViT:
    return TextViT(dict(embed_dims=32, num_layers=2, num_heads=4), **kwargs)


@pytest.mark.parametrize('pos_grid,width', [('true', 32), ('legacy', 16)])
def test_token_gets_row_and_column(pos_grid, width):
    dim = 64
    table = sincos_2d_table(dim, (8, 32), pos_grid)[0]
    assert table.shape == (257, dim)
    assert torch.equal(table[0], torch.zeros(dim))
    for token in (0, 1, 31, 32, 33, 100, 255):
        row, col = token // width, token % width
        expected = torch.cat([sincos_1d(dim // 2, torch.tensor([col])),
                              sincos_1d(dim // 2, torch.tensor([row]))], dim=1)[0].float()
        torch.testing.assert_close(table[1 + token], expected)


def test_true_and_legacy_tables_differ_past_the_first_row():
    true, legacy = sincos_2d_table(64, (8, 32), 'true'), sincos_2d_table(64, (8, 32), 'legacy')
    torch.testing.assert_close(true[:, 1:17], legacy[:, 1:17])  # row 0, columns 0-15 agree
    assert not torch.allclose(true[:, 17:], legacy[:, 17:])


def test_legacy_table_equals_authors_checkpoint(fixtures_dir):
    fx = torch.load(fixtures_dir / 'lmim_pretrain_seed0.pt', weights_only=True)
    theirs = fx['official_state_dict']['model_maeenc.pos_embed']
    ours = sincos_2d_table(theirs.shape[-1], (8, 32), 'legacy')
    assert torch.equal(ours, theirs)


def test_masked_forward_keeps_exact_tokens_and_mask_roundtrip():
    vit = tiny_vit().eval()
    x = torch.randn(3, 3, 32, 128)
    latent, mask, ids_restore = vit.forward_masked(x, mask_ratio=0.8)
    assert latent.shape == (3, 1 + 51, 32)
    assert mask.shape == (3, 256) and torch.equal(mask.sum(1), torch.full((3, ), 205.0))
    again, mask2, _ = vit.forward_masked(x, mask=mask)
    assert torch.equal(mask2, mask)
    torch.testing.assert_close(again[:, 0], latent[:, 0], atol=1e-5, rtol=0)
    sorted_ids = torch.sort(ids_restore, dim=1).values
    assert torch.equal(sorted_ids, torch.arange(256).expand(3, -1))


def test_mask_with_unequal_counts_is_rejected():
    vit = tiny_vit()
    mask = torch.zeros(2, 256)
    mask[0, :10] = 1
    with pytest.raises(ValueError, match='same number'):
        vit.forward_masked(torch.randn(2, 3, 32, 128), mask=mask)


def test_out_types_and_wrong_size():
    x = torch.randn(2, 3, 32, 128)
    assert tiny_vit()(x)[0].shape == (2, 257, 32)
    assert tiny_vit(out_type='cls_token')(x)[0].shape == (2, 32)
    assert tiny_vit(out_type='featmap')(x)[0].shape == (2, 32, 8, 32)
    with pytest.raises(ValueError, match='32, 128'):
        tiny_vit()(torch.randn(1, 3, 32, 100))


def test_presets_and_layer_depth():
    vit = TextViT('s')
    assert (vit.embed_dims, vit.num_layers, vit.num_heads) == (384, 12, 6)
    assert sum(p.numel() for p in vit.parameters()) == 21_313_536
    assert vit.get_layer_depth('backbone.cls_token', 'backbone.') == (0, 14)
    assert vit.get_layer_depth('backbone.blocks.3.attn.qkv.weight', 'backbone.') == (4, 14)
    assert vit.get_layer_depth('backbone.norm.weight', 'backbone.') == (13, 14)
    assert vit.get_layer_depth('decoder.fc.weight', 'backbone.') == (13, 14)
    with pytest.raises(ValueError, match='unknown TextViT arch'):
        TextViT('xl')


def test_freeze_blocks():
    vit = tiny_vit()
    vit.freeze_blocks(1)
    assert not vit.patch_embed.proj.weight.requires_grad and not vit.cls_token.requires_grad
    assert not any(p.requires_grad for p in vit.blocks[0].parameters())
    assert all(p.requires_grad for p in vit.blocks[1].parameters())


def test_sdpa_attention_equals_explicit_softmax():
    vit = tiny_vit().eval()
    attn = vit.blocks[0].attn
    x = torch.randn(2, 17, 32)
    qkv = attn.qkv(x).reshape(2, 17, 3, 4, 8).permute(2, 0, 3, 1, 4)
    weights = (qkv[0] @ qkv[1].transpose(-2, -1) * 8**-0.5).softmax(-1)
    explicit = attn.proj((weights @ qkv[2]).transpose(1, 2).reshape(2, 17, 32))
    torch.testing.assert_close(attn(x), explicit, atol=1e-6, rtol=1e-5)


def test_strict_pretrained_loading_lists_bad_keys(tmp_path):
    vit = tiny_vit()
    state = {f'backbone.{k}': v for k, v in vit.state_dict().items()}
    state['backbone.extra'] = torch.zeros(1)
    del state['backbone.norm.bias']
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': state}, path)
    other = tiny_vit(init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    with pytest.raises(KeyError) as err:
        other.init_weights()
    assert 'norm.bias' in str(err.value) and 'extra' in str(err.value)
    del state['backbone.extra']
    state['backbone.norm.bias'] = torch.full((32, ), 0.5)
    torch.save({'state_dict': state}, path)
    other.init_weights()
    assert torch.equal(other.norm.bias, torch.full((32, ), 0.5))


def test_hmlp_stem_is_patch_local_so_masking_stays_exact():
    torch.manual_seed(0)
    vit = tiny_vit(stem='hmlp').eval()
    assert sum(isinstance(m, torch.nn.Conv2d) for m in vit.patch_embed.modules()) == 3
    x = torch.randn(2, 3, 32, 128)
    tokens = vit.embed(x)
    changed = x.clone()
    changed[:, :, 4:8, 8:12] += 1.0  # inside patch (row 1, column 2) of the 4x4 grid
    moved = (vit.embed(changed) - tokens).abs().amax(dim=(0, 2)) > 1e-6
    assert moved.nonzero().flatten().tolist() == [1 * 32 + 2]
    # the visible tokens of a masked forward are exactly the embedded tokens at those positions
    mask = torch.zeros(2, 256).scatter_(1, torch.rand(2, 256).argsort(1)[:, :192], 1.0)
    visible, _, _ = vit.mask_tokens(tokens, mask=mask)
    kept = tokens[mask == 0].view(2, 64, 32)
    torch.testing.assert_close(visible, kept)
    assert vit(x)[0].shape == (2, 257, 32)
    with pytest.raises(ValueError, match='divisible by 4'):
        TextViT(dict(embed_dims=32, num_layers=1, num_heads=4), img_size=(30, 120), patch_size=6, stem='hmlp')
    with pytest.raises(ValueError, match="'linear', 'hmlp' or 'conv'"):
        tiny_vit(stem='cnn')


def test_grayscale_input_and_channel_check():
    gray = tiny_vit(in_channels=1)
    assert gray(torch.randn(2, 1, 32, 128))[0].shape == (2, 257, 32)
    with pytest.raises(ValueError, match=r'\(N, 1, 32, 128\)'):
        gray(torch.randn(2, 3, 32, 128))


def test_conv_stem_never_sees_masked_pixels():
    torch.manual_seed(0)
    vit = tiny_vit(stem='conv').eval()
    assert [m.stride for m in vit.patch_embed.proj if isinstance(m, torch.nn.Conv2d)] == [(2, 2)] * 2 + [(1, 1)]
    x = torch.randn(2, 3, 32, 128)
    mask = torch.zeros(2, 256)
    mask[:, 33] = 1.0  # patch (row 1, column 1) of the 8x32 grid, pixels 4:8 x 4:8
    mask[:, 200:255] = 1.0
    latent, _, _ = vit.forward_masked(x, mask=mask)
    changed = x.clone()
    changed[:, :, 4:8, 4:8] = 5.0
    torch.testing.assert_close(vit.forward_masked(changed, mask=mask)[0], latent)
    assert not torch.allclose(vit(changed)[0], vit(x)[0])  # unmasked, the stem does see them
    latent, random, _ = vit.forward_masked(x, mask_ratio=0.75)
    assert latent.shape == (2, 1 + 64, 32) and torch.equal(random.sum(1), torch.full((2, ), 192.0))
    with pytest.raises(ValueError, match='power-of-2'):
        TextViT(dict(embed_dims=32, num_layers=1, num_heads=4), img_size=(30, 120), patch_size=6, stem='conv')
