"""tools/analysis_tools/visualize_masks.py on a real IIIT5K word."""
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lmim_mm.visualization.images import LINE_HEIGHT

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' / 'visualize_masks.py'


def run_tool(monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, 'argv', ['visualize_masks.py', *args])
    runpy.run_path(str(TOOL), run_name='__main__')


def test_draws_every_generator_with_its_token_count(real_data_dir, tmp_path, monkeypatch):
    out = tmp_path / 'masks.png'
    image = real_data_dir / 'iiit5k_test' / 'IMG' / '5.png'
    run_tool(monkeypatch, str(image), '--num', '3', '--scale', '1', '--patch-size', '8', '--out', str(out))
    picture = np.asarray(Image.open(out).convert('RGB'))
    pad, block = 4, LINE_HEIGHT + 4 + 32 + 4
    assert picture.shape == (4 * block + pad, 3 * 128 + 4 * pad, 3)
    top = pad + LINE_HEIGHT + pad
    first, second = (picture[top:top + 32, pad + i * 132:pad + i * 132 + 128] for i in (0, 1))
    assert not np.array_equal(first, second)  # different masks per sample
    original = runpy.run_path(str(TOOL))['read_word'](str(image), (32, 128)).astype(int)
    for row in range(4):  # 48 of the 4 x 16 tokens (ratio 0.75) greyed in every panel
        panel = picture[top + row * block:top + row * block + 32, pad:pad + 128].astype(int)
        changed = (panel != original).any(-1).reshape(4, 8, 16, 8).any((1, 3))
        assert changed.sum() == 48, (row, changed.sum())
        assert (np.abs(panel - 128) <= 32).all(-1).reshape(4, 8, 16, 8).all((1, 3))[changed].all()

def test_unreadable_image_is_named(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match='cannot read image .*missing.png'):
        run_tool(monkeypatch, str(tmp_path / 'missing.png'), '--out', str(tmp_path / 'x.png'))
