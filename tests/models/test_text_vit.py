import pytest
import torch

from lmim_mm.models.backbones import TextViT
from lmim_mm.models.backbones.text_vit import sincos_2d_table


def tiny_vit(**kwargs) -> TextViT:
    return TextViT(dict(embed_dims=32, num_layers=2, num_heads=4), **kwargs)


def random_mask(n: int, num_masked: int, length: int = 256) -> torch.Tensor:
    """bool (n, length), ``num_masked`` True per row at random."""
    return torch.zeros(n, length, dtype=torch.bool).scatter_(1, torch.rand(n, length).argsort(1)[:, :num_masked], True)


def sincos_1d(dim: int, pos: int) -> torch.Tensor:
    omega = 1.0 / 10000**(torch.arange(dim // 2, dtype=torch.float64) / (dim / 2))
    return torch.cat([torch.sin(pos * omega), torch.cos(pos * omega)])


@pytest.mark.parametrize('pos_grid,width', [('true', 32), ('legacy', 16)])
def test_token_gets_row_and_column(pos_grid, width):
    dim = 64
    table = sincos_2d_table(dim, (8, 32), pos_grid)[0]
    assert table.shape == (257, dim)
    assert torch.equal(table[0], torch.zeros(dim))
    for token in (0, 1, 31, 32, 33, 100, 255):
        row, col = token // width, token % width
        expected = torch.cat([sincos_1d(dim // 2, col), sincos_1d(dim // 2, row)]).float()
        torch.testing.assert_close(table[1 + token], expected)
    with pytest.raises(ValueError, match="'legacy'"):
        sincos_2d_table(dim, (4, 3), 'legacy')


def test_true_and_legacy_tables_differ_past_the_first_row():
    true, legacy = sincos_2d_table(64, (8, 32), 'true'), sincos_2d_table(64, (8, 32), 'legacy')
    torch.testing.assert_close(true[:, 1:17], legacy[:, 1:17])  # row 0, columns 0-15 agree
    assert not torch.allclose(true[:, 17:], legacy[:, 17:])


def test_legacy_table_equals_authors_checkpoint(fixtures_dir):
    fx = torch.load(fixtures_dir / 'lmim_pretrain_seed0.pt', weights_only=True)
    theirs = fx['official_state_dict']['model_maeenc.pos_embed']
    assert torch.equal(sincos_2d_table(theirs.shape[-1], (8, 32), 'legacy'), theirs)
    vit = TextViT(dict(embed_dims=theirs.shape[-1], num_layers=1, num_heads=4), pos_grid='legacy')
    vit.init_weights()  # mmpretrain's init draws a random table; ours puts the fixed one back
    assert torch.equal(vit.pos_embed, theirs) and not vit.pos_embed.requires_grad


def test_masked_forward_encodes_the_visible_tokens_of_the_given_mask():
    torch.manual_seed(0)
    vit = tiny_vit().eval()
    x = torch.randn(3, 3, 32, 128)
    mask = random_mask(3, 205)
    latent, same, ids_restore = vit.forward_masked(x, mask)
    assert latent.shape == (3, 1 + 51, 32) and same is mask
    # the same as running mmpretrain's layers on [cls] + the visible tokens, in index order
    tokens = vit.patch_embed(x)[0] + vit.pos_embed[:, 1:]
    cls = (vit.cls_token + vit.pos_embed[:, :1]).expand(3, -1, -1)
    out = torch.cat([cls, tokens[~mask].view(3, 51, 32)], 1)
    for layer in vit.layers:
        out = layer(out)
    torch.testing.assert_close(latent, vit.ln1(out))
    visible_first = torch.gather(mask, 1, torch.argsort(ids_restore, 1))
    assert not visible_first[:, :51].any() and visible_first[:, 51:].all()


@pytest.mark.parametrize('mask, message', [
    (torch.zeros(2, 256), 'bool'),
    (torch.zeros(2, 128, dtype=torch.bool), r'\(2, 256\)'),
    (torch.zeros(2, 256, dtype=torch.bool).index_fill_(1, torch.arange(10), True)[[0, 0]] ^
     torch.tensor([[False] * 256, [True] + [False] * 255]), 'same number'),
])
def test_bad_masks_are_rejected(mask, message):
    with pytest.raises(ValueError, match=message):
        tiny_vit().forward_masked(torch.randn(2, 3, 32, 128), mask)


def test_out_types_and_wrong_size():
    x = torch.randn(2, 3, 32, 128)
    assert tiny_vit()(x)[0].shape == (2, 257, 32)
    assert tiny_vit(out_type='cls_token')(x)[0].shape == (2, 32)
    assert tiny_vit(out_type='featmap')(x)[0].shape == (2, 32, 8, 32)
    with pytest.raises(ValueError, match='32, 128'):
        tiny_vit()(torch.randn(1, 3, 32, 100))


def test_presets_and_layer_depth():
    vit = TextViT('s')
    assert (vit.embed_dims, vit.num_layers, vit.arch_settings['num_heads']) == (384, 12, 6)
    assert sum(p.numel() for p in vit.parameters() if p.requires_grad) == 21_313_536
    assert vit.get_layer_depth('backbone.cls_token', 'backbone.') == (0, 14)
    assert vit.get_layer_depth('backbone.layers.3.attn.qkv.weight', 'backbone.') == (4, 14)
    assert vit.get_layer_depth('backbone.ln1.weight', 'backbone.') == (13, 14)
    assert vit.get_layer_depth('decoder.fc.weight', 'backbone.') == (13, 14)
    with pytest.raises(ValueError, match='unknown TextViT arch'):
        TextViT('xl')


def test_freeze_blocks():
    vit = tiny_vit(frozen_stages=1)
    assert not vit.patch_embed.projection.weight.requires_grad and not vit.cls_token.requires_grad
    assert not any(p.requires_grad for p in vit.layers[0].parameters())
    assert all(p.requires_grad for p in vit.layers[1].parameters())
    with pytest.raises(ValueError, match=r'\[0, 2\]'):
        vit.freeze_blocks(3)


def test_attention_dropout_reaches_sdpa_in_training_only():
    vit = tiny_vit(attn_drop_rate=0.5)
    x = torch.randn(2, 3, 32, 128)
    assert vit.layers[0].attn.attn_drop == 0.5
    assert not torch.allclose(vit(x)[0], vit(x)[0])
    vit.eval()
    torch.testing.assert_close(vit(x)[0], vit(x)[0])


def test_strict_pretrained_loading_lists_bad_keys(tmp_path):
    vit = tiny_vit()
    state = {f'backbone.{k}': v for k, v in vit.state_dict().items()}
    state['backbone.extra'] = torch.zeros(1)
    del state['backbone.ln1.bias']
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': state}, path)
    other = tiny_vit(init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    with pytest.raises(KeyError) as err:
        other.init_weights()
    assert 'ln1.bias' in str(err.value) and 'extra' in str(err.value) and 'ckpt.pth' in str(err.value)
    del state['backbone.extra']
    state['backbone.ln1.bias'] = torch.full((32, ), 0.5)
    torch.save({'state_dict': state}, path)
    other.init_weights()
    assert torch.equal(other.ln1.bias, torch.full((32, ), 0.5))


def test_hmlp_stem_is_patch_local_so_masking_stays_exact():
    torch.manual_seed(0)
    vit = tiny_vit(stem='hmlp').eval()
    assert sum(isinstance(m, torch.nn.Conv2d) for m in vit.patch_embed.modules()) == 3
    x = torch.randn(2, 3, 32, 128)
    tokens = vit.patch_embed(x)[0]
    changed = x.clone()
    changed[:, :, 4:8, 8:12] += 1.0  # inside patch (row 1, column 2) of the 4x4 grid
    moved = (vit.patch_embed(changed)[0] - tokens).abs().amax(dim=(0, 2)) > 1e-6
    assert moved.nonzero().flatten().tolist() == [1 * 32 + 2]
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


@pytest.mark.parametrize('stem_depth, strides', [(1, [2, 2, 1]), (2, [2, 1, 2, 1, 1])])
def test_conv_stem_never_sees_masked_pixels(stem_depth, strides):
    torch.manual_seed(0)
    vit = tiny_vit(stem='conv', stem_depth=stem_depth).eval()
    convs = [m for m in vit.patch_embed.projection if isinstance(m, torch.nn.Conv2d)]
    assert [m.stride for m in convs] == [(stride, stride) for stride in strides]
    x = torch.randn(2, 3, 32, 128)
    mask = torch.zeros(2, 256, dtype=torch.bool)
    mask[:, 33] = True  # patch (row 1, column 1) of the 8x32 grid, pixels 4:8 x 4:8
    mask[:, 200:255] = True
    latent, _, _ = vit.forward_masked(x, mask)
    changed = x.clone()
    changed[:, :, 4:8, 4:8] = 5.0
    torch.testing.assert_close(vit.forward_masked(changed, mask)[0], latent)
    assert not torch.allclose(vit(changed)[0], vit(x)[0])  # unmasked, the stem does see them
    with pytest.raises(ValueError, match='power-of-2'):
        TextViT(dict(embed_dims=32, num_layers=1, num_heads=4), img_size=(30, 120), patch_size=6, stem='conv')
    with pytest.raises(ValueError, match='depth >= 1'):
        tiny_vit(stem='conv', stem_depth=0)
    with pytest.raises(ValueError, match="stem='conv' only"):
        tiny_vit(stem='hmlp', stem_depth=2)


def test_mae_init_covers_the_linear_projection_only():
    """The linear patch projection gets MAE's xavier init (zero bias); the conv stem keeps PyTorch's
    default init (its 1x1 projection has a non-zero bias and weights of std 1/sqrt(3 * fan_in))."""
    arch = dict(embed_dims=128, num_layers=1, num_heads=4)
    linear = TextViT(arch, patch_size=8).patch_embed.projection
    assert torch.count_nonzero(linear.bias) == 0
    assert linear.weight.std().item() == pytest.approx((2 / (3 * 64 + 128))**0.5, rel=0.1)
    conv = TextViT(arch, patch_size=8, stem='conv')
    conv.init_weights()
    last = conv.patch_embed.projection[-1]
    assert torch.count_nonzero(last.bias) > 0
    assert last.weight.std().item() == pytest.approx((3 * 128)**-0.5, rel=0.1)
