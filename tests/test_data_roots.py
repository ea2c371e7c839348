"""``--cfg-options <name>_root=/x`` moves every path derived from that root, in every config that has it."""
import argparse
from pathlib import Path
from typing import Any, List, Sequence

import pytest

from lmim_mm.utils.run_config import add_common_args, data_roots, load_config, merge_cfg_options
from tests.test_configs import CONFIGS
from tools.analysis_tools import print_config

REPO = Path(__file__).resolve().parents[1]
CONFIG_IDS = [p.relative_to(REPO / 'configs').as_posix() for p in CONFIGS]


def cli_config(config: Path, options: Sequence[str] = ()):
    """The config as ``tools/train.py CONFIG --cfg-options OPTIONS`` builds it."""
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_common_args(parser)
    return load_config(parser.parse_args([str(config), *(['--cfg-options', *options] if options else [])]))


def dataset_paths(node: Any) -> List[str]:
    """Every ``data_root`` path of the datasets in a config node."""
    found: List[str] = []
    if isinstance(node, dict):
        roots = node.get('data_root') if 'type' in node else None
        found += [roots] if isinstance(roots, str) else list(roots or [])
        for value in node.values():
            found += dataset_paths(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            found += dataset_paths(value)
    return found


def loader_paths(cfg) -> List[str]:
    return [path for split in ('train_dataloader', 'val_dataloader', 'test_dataloader')
            for path in dataset_paths(cfg.get(split))]


@pytest.fixture(autouse=True)
def keep_environment(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')  # load_config sets it when missing


@pytest.mark.parametrize('config', CONFIGS, ids=CONFIG_IDS)
def test_setting_every_root_puts_every_data_path_under_it(config):
    roots = data_roots(cli_config(config))
    if not roots:
        pytest.fail(f'{config.name}: no *_root variable, so its data cannot be moved with --cfg-options')
    cfg = cli_config(config, [f'{key}=/x/{key}' for key in roots])
    paths = loader_paths(cfg)
    assert paths, f'{config.name}: no dataset paths'
    assert all(path.startswith('/x/') for path in paths), [p for p in paths if not p.startswith('/x/')]


@pytest.mark.parametrize('config', CONFIGS, ids=CONFIG_IDS)
def test_each_root_moves_exactly_its_own_paths(config):
    before = loader_paths(cli_config(config))
    roots = data_roots(cli_config(config))
    for key, old in roots.items():
        after = loader_paths(cli_config(config, [f'{key}=/moved']))
        owned = [i for i, path in enumerate(before) if path == old or path.startswith(old + '/')]
        for index, (was, now) in enumerate(zip(before, after)):
            assert now == ('/moved' + was[len(old):] if index in owned else was), (key, was, now)


def test_union14m_u_root_moves_the_pretraining_data(capsys):
    cfg = cli_config(REPO / 'configs' / 'lmim_pretrain.py', ['union14m_u_root=/x'])
    assert cfg.union14m_u_root == '/x'
    assert list(cfg.train_dataloader.dataset.data_root) == ['/x/book32_lmdb', '/x/cc_lmdb', '/x/openvino_lmdb']
    assert list(cfg.test_dataloader.dataset.data_root) == ['/x/heldout_lmdb']
    assert cfg.union14m_u_train_roots == ['/x/book32_lmdb', '/x/cc_lmdb', '/x/openvino_lmdb']
    print_config.main([str(REPO / 'configs' / 'lmim_pretrain.py'), '--cfg-options', 'union14m_u_root=/x'])
    printed = capsys.readouterr().out
    assert "'/x/cc_lmdb'" in printed and 'data/Union14M-U' not in printed


def test_explicit_entries_win_and_unknown_roots_are_refused():
    config = REPO / 'configs' / 'textrecog' / 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l.py'
    cfg = cli_config(config, ['common_benchmark_root=/b', 'val_dataloader.dataset.datasets.0.data_root=/mine/iiit'])
    val = [d.data_root for d in cfg.val_dataloader.dataset.datasets]
    assert val[0] == '/mine/iiit' and val[1:] == ['/b/SVT', '/b/IC13_1015', '/b/IC15_2077', '/b/SVTP', '/b/CUTE80']
    assert all(d.data_root.startswith('data/Union14M-L/') for d in cfg.test_dataloader.dataset.datasets)
    with pytest.raises(KeyError, match='union14_u_root: .* no such data root; its roots: common_benchmark_root'):
        cli_config(config, ['union14_u_root=/x'])


def test_longest_root_wins_and_other_values_stay():
    from mmengine.config import Config
    cfg = Config(dict(a_root='d', b_root='d/b', paths=['d/1', 'd/b/2', ('d', 'dx/3')], n=3, other='e/d/4'))
    merge_cfg_options(cfg, {'a_root': '/A', 'b_root': '/B/'})
    assert cfg.paths == ['/A/1', '/B/2', ('/A', 'dx/3')] and cfg.n == 3 and cfg.other == 'e/d/4'
