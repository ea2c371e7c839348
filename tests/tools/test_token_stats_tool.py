"""tools/analysis_tools/token_stats.py on real IIIT5K words with the demo's ViT-Tiny/8."""
import json
import runpy
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analysis_tools' / 'token_stats.py'
CONFIG = str(REPO / 'configs' / 'demo' / 'recognizer_tiny.py')


def run_tool(monkeypatch, *args: str) -> dict:
    monkeypatch.setattr(sys, 'argv', ['token_stats.py', *args])
    return runpy.run_path(str(TOOL), run_name='__main__')


def backbone_state(tool: dict, seed: int) -> dict:
    torch.manual_seed(seed)
    return tool['build_backbone'](CONFIG).state_dict()


def test_random_trained_and_image_blind_encoders(real_data_dir, tmp_path, monkeypatch, capsys):
    tool = runpy.run_path(str(TOOL))
    other = backbone_state(tool, seed=1)
    blind = {k: torch.zeros_like(v) if k.startswith(('patch_embed', 'pos_embed')) else v
             for k, v in backbone_state(tool, seed=0).items()}  # every patch token starts equal
    for name, state in (('other', other), ('blind', blind)):
        torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, tmp_path / f'{name}.pth')
    out = tmp_path / 'stats.json'
    run_tool(monkeypatch, CONFIG, str(tmp_path / 'other.pth'), str(tmp_path / 'blind.pth'), '--random',
             '--data', str(real_data_dir / 'iiit5k_test'), '--num-images', '20', '--out', str(out))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{')]
    assert [line['encoder'] for line in lines] == ['random', str(tmp_path / 'other.pth'), str(tmp_path / 'blind.pth')]
    results = json.loads(out.read_text())
    random_init, other_init, image_blind = results.values()
    assert all(stats['num_images'] == 20 for stats in results.values())
    assert 0 < random_init['cos_within'] < 0.99 and random_init['within_image_var'] > 0.01
    assert other_init['cos_within'] != pytest.approx(random_init['cos_within'])  # the checkpoint was loaded
    assert image_blind['cos_within'] == pytest.approx(1.0) and image_blind['within_image_var'] < 1e-6


def test_incomplete_checkpoint_is_refused_naming_it(real_data_dir, tmp_path, monkeypatch):
    tool = runpy.run_path(str(TOOL))
    state = backbone_state(tool, seed=0)
    state.pop('ln1.weight')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, tmp_path / 'partial.pth')
    with pytest.raises(KeyError, match=r'partial.pth.*missing keys \[.ln1.weight.\]'):
        run_tool(monkeypatch, CONFIG, str(tmp_path / 'partial.pth'), '--data', str(real_data_dir / 'svt_test'),
                 '--num-images', '4')
