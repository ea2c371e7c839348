"""tools/analysis_tools/probe_encoder.py on real IIIT5K words with the demo's ViT-Tiny/8."""
import json
import runpy
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analysis_tools' / 'probe_encoder.py'
CONFIG = str(REPO / 'configs' / 'demo' / 'recognizer_tiny.py')


def run_tool(monkeypatch, *args: str) -> dict:
    monkeypatch.setattr(sys, 'argv', ['probe_encoder.py', *args])
    return runpy.run_path(str(TOOL), run_name='__main__')


def test_probes_random_and_checkpoint_encoders_per_seed(real_data_dir, tmp_path, monkeypatch, capsys):
    tool = runpy.run_path(str(TOOL))
    torch.manual_seed(1)
    state = tool['build_backbone'](CONFIG).state_dict()
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, tmp_path / 'other.pth')
    out = tmp_path / 'probe.json'
    run_tool(monkeypatch, CONFIG, str(tmp_path / 'other.pth'), '--random',
             '--data', str(real_data_dir / 'iiit5k_train'), '--test-data', str(real_data_dir / 'svt_test'),
             '--num-train', '48', '--num-test', '16', '--steps', '10', '--seeds', '0', '1', '--out', str(out))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{')]
    assert [(line['encoder'], line['seed']) for line in lines] == [
        ('random', 0), ('random', 1), (str(tmp_path / 'other.pth'), 0), (str(tmp_path / 'other.pth'), 1)]
    results = json.loads(out.read_text())
    for per_seed in results.values():
        for measured in per_seed.values():
            assert measured['num_train'] == 48 and measured['num_test'] == 16
            assert 0 <= measured['test_acc'] <= 100 and measured['train_loss'] > 0
    random_init, other = results.values()
    assert random_init['0']['train_loss'] != pytest.approx(other['0']['train_loss'])  # the checkpoint was loaded
    assert random_init['0']['train_loss'] != pytest.approx(random_init['1']['train_loss'])  # seeds differ


def test_held_out_words_follow_the_training_words(real_data_dir, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match='past the first 3000'):  # iiit5k_test has 3000 words
        run_tool(monkeypatch, CONFIG, '--random', '--data', str(real_data_dir / 'iiit5k_test'),
                 '--num-train', '3000', '--steps', '1')
