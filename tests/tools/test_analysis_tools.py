"""tools/analysis_tools/{browse_dataset,print_config,get_flops}.py on the demo's tiny configs and real words."""
import json
import runpy
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from lmim_mm.datasets.sources import list_folder_samples
from tests.helpers.tiny_data import write_tiny_datasets

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools' / 'analysis_tools'
DEMO = REPO / 'configs' / 'demo'


def load_tool(name: str) -> dict:
    """The globals of ``tools/analysis_tools/<name>.py`` (its functions, without running ``main``)."""
    return runpy.run_path(str(TOOLS / f'{name}.py'), run_name=name)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory, real_data_dir):
    """8 real IIIT5K words as labeled / unlabeled LMDBs; their labels."""
    root = tmp_path_factory.mktemp('data')
    samples = list_folder_samples(real_data_dir / 'iiit5k_test')[:8]
    write_tiny_datasets(root, samples)
    return root, [label for _, label in samples]


def changed_patches(original: np.ndarray, masked: np.ndarray, grid: tuple) -> int:
    """How many patches of a token ``grid`` (h, w) differ in any pixel between two (H, W, 3) panels."""
    diff = np.any(original != masked, axis=2)
    (h, w), (height, width) = grid, diff.shape
    return int(diff.reshape(h, height // h, w, width // w).any(axis=(1, 3)).sum())


def num_masked(cfg: Config) -> int:
    """Tokens the pipeline's mask transform masks: all but ``int(L * (1 - ratio))`` of the demo's grid."""
    tokens = cfg.tiny_grid[0] * cfg.tiny_grid[1]
    return tokens - int(tokens * (1 - cfg.train_dataloader.dataset.pipeline[1].ratio))


def test_browse_two_view_pipeline_with_the_models_masks(tiny_data):
    root, _ = tiny_data
    tool = load_tool('browse_dataset')
    cfg = Config.fromfile(str(DEMO / 'lmim_tiny.py'))
    cfg.train_dataloader.dataset.data_root = str(root / 'unlabeled')
    browsed = tool['browse'](cfg, 'train', num=4, seed=0)
    assert list(browsed.columns) == ['input', 'mask', 'guidance view']
    inputs, masked, guidance = browsed.columns.values()
    assert len(inputs) == 4 and inputs[0].shape == (32, 128, 3) and inputs[0].dtype == np.uint8
    expected = num_masked(cfg)  # e.g. mask 0.8 of 4 x 16 tokens: 52 greyed patches, no other
    for clean, grey, note in zip(inputs, masked, browsed.notes):
        assert changed_patches(clean, grey, cfg.tiny_grid) == expected
        assert note == f'masked {expected}/{cfg.tiny_grid[0] * cfg.tiny_grid[1]} tokens'
    assert any(not np.array_equal(c, g) for c, g in zip(inputs, guidance))  # augmented guidance views
    # the same seed draws the same views and masks
    again = tool['browse'](cfg, 'train', num=4, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(again.columns['mask'], masked))


def test_browse_single_view_and_recognition_pipelines(tiny_data):
    root, labels = tiny_data
    tool = load_tool('browse_dataset')
    mae = Config.fromfile(str(DEMO / 'mae_teacher_tiny.py'))
    mae.train_dataloader.dataset.data_root = str(root / 'unlabeled')
    browsed = tool['browse'](mae, 'train', num=3)
    assert list(browsed.columns) == ['input', 'mask']
    assert all(changed_patches(c, m, mae.tiny_grid) == num_masked(mae) for c, m in zip(*browsed.columns.values()))
    recog = Config.fromfile(str(DEMO / 'recognizer_tiny.py'))
    recog.train_dataloader.dataset.datasets = [dict(recog.rendered_train_set, data_root=str(root / 'labeled'))]
    browsed = tool['browse'](recog, 'train', num=5)
    assert list(browsed.columns) == ['input'] and len(browsed.columns['input']) == 5
    assert browsed.notes == [f'label: {label!r}' for label in labels[:5]]
    assert browsed.columns['input'][0].shape == (32, 128, 3)  # the pipeline's Resize to 32 x 128


def test_browse_dataset_cli_writes_the_picture(tiny_data, tmp_path):
    root, _ = tiny_data
    argv = [str(DEMO / 'lmim_tiny.py'), '--num', '3', '--output-dir', str(tmp_path), '--scale', '1',
            '--cfg-options', f'train_dataloader.dataset.data_root={root / "unlabeled"}']
    path = load_tool('browse_dataset')['main'](argv)
    assert path == tmp_path / 'lmim_tiny_train.png'
    img = cv2.imread(str(path))
    # a title row and 3 sample rows of 32-pixel panels (+ a note line), 3 columns of 128 pixels
    assert img.shape[1] == 3 * 128 + 4 * 4 and img.shape[0] > 3 * 32 + 14
    with pytest.raises(KeyError, match='no val_dataloader'):
        load_tool('browse_dataset')['main']([str(DEMO / 'lmim_tiny.py'), '--phase', 'val'])


def test_print_config_merges_bases_and_options(tmp_path, capsys):
    config = REPO / 'configs' / 'lmim_pretrain.py'
    cfg = load_tool('print_config')['main']([str(config), '--cfg-options', 'model.teacher_momentum=0.999',
                                             '--out', str(tmp_path / 'dumped.py')])
    out = capsys.readouterr().out
    assert out.startswith('Config:\n')
    assert "type='LMIM'" in out and 'teacher_momentum=0.999' in out  # from the _base_ chain, and the override
    assert "type='AlignmentDecoder'" in out and 'LMIMTwoView' in out
    dumped = Config.fromfile(str(tmp_path / 'dumped.py'))
    assert dumped.model.teacher_momentum == 0.999 and dumped.to_dict() == cfg.to_dict()
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_tool('print_config')['main']([str(tmp_path / 'nope.py')])


def test_get_flops_counts_backbone_and_decoding(capsys):
    tool = load_tool('get_flops')
    pretrain = tool['main']([str(DEMO / 'lmim_tiny.py')])
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1]) == pretrain
    assert 'backbone.layers.0' in out and pretrain['decode_steps'] is None
    # ViT-Tiny on 32 x 128 with 4 x 16 patches: per block and token, qkv, projection and MLP (12 x 128^2
    # multiply-adds), plus attention (65 x 2 x 128 per token)
    depth = Config.fromfile(DEMO / 'lmim_tiny.py').model.backbone.arch['num_layers']
    assert pretrain['flops'] >= depth * 65 * (12 * 128 * 128 + 65 * 2 * 128)
    assert tool['main']([str(DEMO / 'lmim_tiny.py')]) == pretrain  # seeded: the same count again
    recog = tool['main']([str(DEMO / 'recognizer_tiny.py'), '--cfg-options', 'model.decoder.max_seq_len=5'])
    assert 1 <= recog['decode_steps'] <= 5 and recog['flops'] > pretrain['flops']
    assert recog['params'] > 0 and recog['input_shape'] == [1, 3, 32, 128]
