"""Converters of the authors' pretraining checkpoints (LMIM, MAERec MAE) and their CLIs."""
import argparse
import runpy
import sys
from pathlib import Path

import pytest
import torch

from lmim_mm.converters import ConversionError
from lmim_mm.converters.authors import convert_lmim_pretrain, convert_maerec_mae
from lmim_mm.models.backbones import TextViT
from lmim_mm.utils.checkpoint import load_strict

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'model_converters'


@pytest.fixture(scope='module')
def fixture(fixtures_dir):
    return torch.load(fixtures_dir / 'lmim_pretrain_seed0.pt', weights_only=True)


def tiny_vit() -> TextViT:
    return TextViT(dict(embed_dims=64, num_layers=2, num_heads=4), pos_grid='legacy')


def test_maerec_checkpoint_loads_into_textvit_with_decoder_dropped(fixture):
    ckpt = fixture['teacher_mae_checkpoint']
    state_dict, dropped = convert_maerec_mae(ckpt)
    assert sorted(dropped) == ['decoder_embed.weight', 'decoder_pred.weight', 'mask_token']
    vit = tiny_vit()
    load_strict(vit, state_dict)
    assert torch.equal(vit.pos_embed, ckpt['model']['pos_embed'])  # the authors' table is kept
    prefixed, _ = convert_maerec_mae(ckpt['model'], prefix='teacher.')  # a bare state dict works too
    assert set(prefixed) == {'teacher.' + k for k in state_dict}


def test_lmim_checkpoint_maps_every_key(fixture):
    official = fixture['official_state_dict']
    state_dict, dropped = convert_lmim_pretrain({'model': official})
    assert dropped == []
    assert sum(v.numel() for v in state_dict.values()) == sum(v.numel() for v in official.values())
    assert {k.split('.')[0] for k in state_dict} == {'backbone', 'teacher', 'neck'}
    for i in range(2):  # the authors' nn.TransformerDecoderLayer keeps its names
        key = f'decoder_blocks.{i}.multihead_attn.in_proj_weight'
        assert state_dict[f'neck.{key}'] is official[key]
    assert torch.equal(state_dict['neck.ln1.weight'], official['decoder_norm.weight'])
    assert torch.equal(state_dict['backbone.layers.1.ffn.layers.0.0.weight'],
                       official['model_maeenc.blocks.1.mlp.fc1.weight'])
    assert torch.equal(state_dict['neck.memory_embed.weight'], official['decoder_embed2.weight'])
    student = tiny_vit()
    load_strict(student, {k[len('backbone.'):]: v for k, v in state_dict.items() if k.startswith('backbone.')})


def test_maerec_checkpoint_with_its_decoder_loads_into_textmae_parts(fixture):
    from lmim_mm.models.necks import TextMAEDecoder
    model = fixture['teacher_mae_checkpoint']['model']
    state_dict, dropped = convert_maerec_mae(model, prefix='backbone.', with_decoder=True)
    assert dropped == [] and len(state_dict) == len(model)
    neck = {k[len('neck.'):]: v for k, v in state_dict.items() if k.startswith('neck.')}
    assert set(neck) == {'mask_token', 'decoder_embed.weight', 'decoder_pred.weight'}  # the fixture's decoder
    assert set(TextMAEDecoder(depth=1).state_dict()) >= {'mask_token', 'decoder_embed.weight', 'ln1.weight',
                                                          'decoder_blocks.0.ffn.layers.1.weight'}


@pytest.mark.parametrize('convert', [convert_lmim_pretrain, convert_maerec_mae])
def test_unknown_keys_are_an_error_that_lists_them(fixture, convert):
    state_dict = dict(fixture['official_state_dict'] if convert is convert_lmim_pretrain else
                      fixture['teacher_mae_checkpoint']['model'])
    state_dict['head.fc.weight'] = torch.zeros(1)
    state_dict['blocks.0.ls1.gamma'] = torch.zeros(1)
    with pytest.raises(ConversionError) as err:
        convert(state_dict)
    assert 'head.fc.weight' in str(err.value) and 'blocks.0.ls1.gamma' in str(err.value)


def _run_cli(script: str, *args: str) -> None:
    argv = sys.argv
    sys.argv = [script, *args]
    try:
        runpy.run_path(str(TOOLS / script), run_name='__main__')
    finally:
        sys.argv = argv


def test_clis_read_training_checkpoints_and_write_mmengine_checkpoints(fixture, tmp_path):
    # the authors' save_model stores the run's argparse.Namespace beside the weights
    src = tmp_path / 'checkpoint-19.pth'
    torch.save({'model': fixture['official_state_dict'], 'epoch': 19, 'args': argparse.Namespace(lr=3e-4)}, src)
    dst = tmp_path / 'out' / 'lmim_mm.pth'
    _run_cli('lmim_pretrain_to_mm.py', str(src), str(dst))
    saved = torch.load(dst, weights_only=True)
    assert set(saved) == {'state_dict', 'meta'}
    assert saved['meta']['source'] == str(src)
    expected, _ = convert_lmim_pretrain(fixture['official_state_dict'])
    assert saved['state_dict'].keys() == expected.keys()
    assert all(torch.equal(saved['state_dict'][k], v) for k, v in expected.items())
    assert [p.name for p in dst.parent.iterdir()] == ['lmim_mm.pth']  # no temporary file left

    mae_src = tmp_path / 'maerec.pth'
    torch.save(fixture['teacher_mae_checkpoint'], mae_src)
    mae_dst = tmp_path / 'vit.pth'
    _run_cli('maerec_mae_to_mm.py', str(mae_src), str(mae_dst), '--prefix', 'backbone.')
    saved = torch.load(mae_dst, weights_only=True)
    assert all(k.startswith('backbone.') for k in saved['state_dict'])
    assert 'mask_token' in saved['meta']['dropped']


def test_cli_names_the_file_with_unknown_keys(fixture, tmp_path):
    src = tmp_path / 'bad.pth'
    torch.save({'model': {**fixture['official_state_dict'], 'extra.weight': torch.zeros(1)}}, src)
    with pytest.raises(ConversionError, match=r'bad\.pth.*extra\.weight'):
        _run_cli('lmim_pretrain_to_mm.py', str(src), str(tmp_path / 'out.pth'))
    assert not (tmp_path / 'out.pth').exists()
