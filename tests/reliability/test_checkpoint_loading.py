"""Every entry point that loads a checkpoint loads strictly and names the file torch refuses.

The tools' ``main()`` run in this process (``runpy``) with their real command lines, which keeps
the interpreter start-up and imports out of each case.
"""
import os
import re
import runpy
import sys
from contextlib import chdir
from pathlib import Path

import pytest
import torch

from lmim_mm.datasets.image_io import ImageDecodeError
from lmim_mm.datasets.sources import DatasetFormatError, list_folder_samples
from tests.helpers.tiny_configs import tiny_recognizer_config
from tests.helpers.tiny_data import write_tiny_datasets

REPO = Path(__file__).resolve().parents[2]


class Evil:
    """Pickles as a call of ``os.system``: what ``weights_only`` loading must refuse."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


@pytest.fixture(scope='module')
def setup(tmp_path_factory, real_data_dir) -> dict:
    """Tiny data, a tiny recognizer config, and checkpoints: fitting, keys missing, a wrong shape, evil."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmocr.registry import MODELS

    from lmim_mm.utils import register_all_modules

    root = tmp_path_factory.mktemp('loading')
    write_tiny_datasets(root / 'data', list_folder_samples(real_data_dir / 'svt_test')[:8], folder_size=4)
    config = tiny_recognizer_config(root, root / 'data')
    register_all_modules(init_default_scope=False)
    with chdir(REPO), DefaultScope.overwrite_default_scope('mmocr'):
        state = MODELS.build(Config.fromfile(str(config)).model).state_dict()
    paths = {name: root / f'{name}.pth' for name in ('good', 'missing', 'shape', 'evil')}
    torch.save(dict(state_dict=state, meta={}), paths['good'])
    torch.save(dict(state_dict={k: v for k, v in state.items() if not k.startswith('decoder.')}, meta={}),
               paths['missing'])
    key = next(k for k, v in state.items() if k.startswith('decoder.') and v.ndim == 2)
    torch.save(dict(state_dict=dict(state, **{key: torch.zeros(3, 3)}), meta={}), paths['shape'])
    torch.save(dict(state_dict=state, meta=Evil(root / 'pwned')), paths['evil'])
    return dict(root=root, config=config, folder=root / 'data' / 'folder', marker=root / 'pwned', **paths)


def run_tool(monkeypatch, name: str, *args):
    """``tools/<name>``'s ``main()`` with ``args`` as its command line, run from the repository root."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, 'argv', [name, *map(str, args)])
    return runpy.run_path(str(REPO / 'tools' / name))['main']()


def test_infer_reads_a_fitting_checkpoint(monkeypatch, capsys, setup):
    assert run_tool(monkeypatch, 'infer.py', setup['config'], setup['good'], setup['folder']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len([line for line in lines if line.startswith(str(setup['folder']))]) == 4


@pytest.mark.parametrize('tool', ['infer.py', 'test.py'])
@pytest.mark.parametrize('case, error, message', [
    ('missing', KeyError, 'does not fit .*missing keys \\[.*decoder\\.'),
    ('shape', ValueError, 'wrong shape'),
])
def test_checkpoint_that_does_not_fit_is_refused(monkeypatch, setup, tool, case, error, message):
    args = [setup['config'], setup[case]] + ([setup['folder']] if tool == 'infer.py' else
                                            ['--work-dir', setup['root'] / f'test_{case}'])
    with pytest.raises(error, match=f'{re.escape(str(setup[case]))}.*{message}'):
        run_tool(monkeypatch, tool, *args)


@pytest.mark.parametrize('tool, args', [
    ('infer.py', ['{config}', '{evil}', '{folder}']),
    ('test.py', ['{config}', '{evil}', '--work-dir', '{root}/test_evil']),
    ('train.py', ['{config}', '--work-dir', '{root}/resume_evil', '--resume', '{evil}']),
    ('train.py', ['{config}', '--work-dir', '{root}/load_evil', '--cfg-options', 'load_from={evil}']),
    ('check_parity.py', ['{evil}']),
])
def test_refused_pickle_names_the_file(monkeypatch, setup, tool, args):
    with pytest.raises(ValueError, match=f'(?s)cannot read checkpoint {re.escape(str(setup["evil"]))}: '
                                         f'UnpicklingError.*posix.system'):
        run_tool(monkeypatch, tool, *[a.format(**setup) for a in args])
    assert not setup['marker'].exists()


def test_infer_refuses_bad_image_and_empty_label_naming_the_file(monkeypatch, setup, tmp_path):
    folder = tmp_path / 'folder'
    for sub in ('IMG', 'label'):
        (folder / sub).mkdir(parents=True)
    good = next((setup['folder'] / 'IMG').iterdir()).read_bytes()
    (folder / 'IMG' / '1.jpg').write_bytes(good)
    (folder / 'IMG' / '2.jpg').write_bytes(good[:len(good) // 2])
    for i in (1, 2):
        (folder / 'label' / f'{i}.txt').write_text('word')
    with pytest.raises(ImageDecodeError, match=f'{re.escape(str(folder / "IMG" / "2.jpg"))}: truncated'):
        run_tool(monkeypatch, 'infer.py', setup['config'], setup['good'], folder, '--strict')
    assert run_tool(monkeypatch, 'infer.py', setup['config'], setup['good'], folder) == 1  # named, the other read
    (folder / 'IMG' / '2.jpg').write_bytes(good)
    (folder / 'label' / '2.txt').write_text('')
    with pytest.raises(DatasetFormatError, match=f'{re.escape(str(folder / "label" / "2.txt"))}: empty label'):
        run_tool(monkeypatch, 'infer.py', setup['config'], setup['good'], folder)
