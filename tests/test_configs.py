"""Every config in configs/ builds its model and dataloaders, with data roots on tiny real LMDBs."""
import copy
from pathlib import Path
from typing import Any, Dict

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import lmim_mm  # noqa: F401  (registers the modules)
from lmim_mm.datasets.sources import list_folder_samples
from tests.helpers.tiny_data import write_tiny_datasets

REPO = Path(__file__).resolve().parents[1]
# runnable configs: not the _base_ folder, not the shared settings files of a folder (leading '_')
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts and not p.name.startswith('_'))


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory, real_data_dir):
    """Per dataset type, a tiny root of the right kind made of 8 real IIIT5K words."""
    root = tmp_path_factory.mktemp('tiny')
    samples = list_folder_samples(real_data_dir / 'iiit5k_test')[:8]
    write_tiny_datasets(root, samples)
    return dict(UnlabeledLMDBDataset=root / 'unlabeled', LabeledLMDBDataset=root / 'labeled',
                RecogFolderDataset=root / 'folder')


def point_data_roots(node: Any, roots: Dict[str, Path]) -> None:
    """Replace ``data_root`` of every dataset config in ``node`` by the tiny root of its type."""
    if isinstance(node, dict):
        if 'data_root' in node and 'type' in node:
            node['data_root'] = str(roots[node['type'].split('.')[-1]])  # 'mmocr.UnlabeledLMDBDataset' too
            node.pop('num_samples', None)
        for value in node.values():
            point_data_roots(value, roots)
    elif isinstance(node, (list, tuple)):
        for value in node:
            point_data_roots(value, roots)


def test_every_config_is_covered():
    names = {p.relative_to(REPO / 'configs').as_posix() for p in CONFIGS}
    assert {'lmim_pretrain.py', 'lmim/lmim_vit-s-p4_8xb64-amp-coslr-10e_union14m-u.py',
            'mae/mae_vit-s-p4_8xb128-amp-coslr-20e_union14m-u.py',
            'mms/mms_vit-s-p4_8xb128-amp-coslr-20e_union14m-u.py'} <= names
    assert any(n.startswith('textrecog/') and 'fudanvi' in n for n in names)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.relative_to(REPO / 'configs').as_posix())
def test_config_builds_model_and_dataloaders(config, tiny_data, tmp_path):
    cfg = Config.fromfile(str(config))
    point_data_roots(cfg._cfg_dict, tiny_data)
    if cfg.model.get('teacher_init_cfg'):
        cfg.model.teacher_init_cfg = None  # no MAERec checkpoint in CI; loading it is tested elsewhere
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        from mmengine.registry import MODELS
        model = MODELS.build(copy.deepcopy(cfg.model))
        model.init_weights()
        for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if split not in cfg:
                continue
            loader_cfg = copy.deepcopy(cfg[split])
            loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
            loader = Runner.build_dataloader(loader_cfg, seed=0)
            batch = next(iter(loader))
            if split == 'train_dataloader':
                model.train()
                losses = model(**model.data_preprocessor(batch, True), mode='loss')
                total = sum(v for k, v in losses.items() if 'loss' in k)
                assert torch.isfinite(total), f'{config.name}: non-finite loss {losses}'
            else:
                model.eval()
                with torch.no_grad():
                    out = model.test_step(batch)
                assert len(out) == 2
