"""tools/data/make_synthetic.py: 10,000 labeled word images with 2 workers, deterministically."""
import importlib.util
import time
from pathlib import Path

import cv2
import pytest

from lmim_mm.datasets.image_io import read_image
from lmim_mm.datasets.sources import LMDBSource
from lmim_synth.scene_effects import SceneOptions
from lmim_synth.synthetic import CHARSET, render_sample

ROOT = Path(__file__).parents[2]


def make_synthetic_script():
    spec = importlib.util.spec_from_file_location('make_synthetic', ROOT / 'tools' / 'data' / 'make_synthetic.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_synthetic_main(argv):
    make_synthetic_script().main(argv)


def test_scene_effect_flags_and_grid_picture(tmp_path, capsys):
    script = make_synthetic_script()
    out = ['--out', 'x', '--num-train', '5']
    assert script.scene_options(script.parse_args(out)) == SceneOptions()
    assert (script.scene_options(script.parse_args([*out, '--no-curve', '--no-low-res']))
            == SceneOptions(curve=False, low_res=False))
    assert script.scene_options(script.parse_args([*out, '--plain', '--curve'])) == SceneOptions.off()
    with pytest.raises(SystemExit):
        script.parse_args(['--out', 'x'])  # neither a split size nor --grid
    script.main(['--grid', str(tmp_path / 'grid.png'), '--only', 'curve', '--grid-size', '5', '--seed', '2'])
    grid = cv2.imread(str(tmp_path / 'grid.png'))
    assert grid.shape == (3 * (48 + 16), 2 * 224, 3) and 'curve=True' in capsys.readouterr().out
    assert not (grid[:48, 2:222] == 128).all() and (grid[2 * 64:2 * 64 + 48, 226:] == 128).all()  # 5 of 6 cells
    assert not (tmp_path / 'train').exists()  # a picture only


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_make_10k_word_images_deterministically(tmp_path, capsys):
    start = time.perf_counter()
    make_synthetic_main(['--out', str(tmp_path), '--num-train', '10000', '--num-val', '50', '--num-unlabeled', '50',
                         '--seed', '3', '--workers', '2'])
    seconds = time.perf_counter() - start
    print(f'make_synthetic: 10100 images in {seconds:.1f} s')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['train', 'unlabeled', 'val']
    train = LMDBSource(str(tmp_path / 'train'))
    assert len(train) == 10000
    labels = [train.label(i) for i in range(10000)]
    assert all(set(label) <= CHARSET for label in labels) and len(set(labels)) > 4000
    assert all(read_image(train.image(i), train.img_path(i)).ndim == 3 for i in range(10000))
    for index in range(0, 10000, 97):  # one process, same seed -> the same bytes as 2 workers wrote
        assert render_sample(index, seed=3, split='train') == (train.image(index), labels[index])
    assert render_sample(0, seed=4, split='train')[0] != train.image(0)
    assert not LMDBSource(str(tmp_path / 'unlabeled')).labeled
    assert len(LMDBSource(str(tmp_path / 'val'))) == 50


def test_nothing_to_write_is_an_error(capsys):
    with pytest.raises(SystemExit):
        make_synthetic_main(['--lang', 'zh'])
    assert 'nothing to write: give at least one of --num-train' in capsys.readouterr().err


def test_default_output_folder_names_the_language(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_synthetic_main(['--num-test', '3'])
    assert len(LMDBSource(str(tmp_path / 'data' / 'synth_en' / 'test'))) == 3
