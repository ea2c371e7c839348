"""lmim_mm.apis.curves and its script tools/analysis_tools/plot_curves.py on synthetic mmengine logs."""
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lmim_mm.apis.curves import find_scalars, key_series, plot_curves, read_scalars

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analysis_tools' / 'plot_curves.py'
ACC = 'IIIT5K/recog/word_acc_ignore_case_symbol'


def write_run(work_dir: Path, timestamp: str, final_loss: float, by_epoch: bool = True) -> Path:
    """A LocalVisBackend log: training lines every 10 iterations, validation after each of 3 epochs."""
    lines = []
    for epoch in range(1, 4):
        for it in range(10, 101, 10):
            step = (epoch - 1) * 100 + it
            record = dict(lr=1e-3, loss=final_loss + 3.0 / step, iter=step, step=step)
            lines.append({**record, 'epoch': epoch} if by_epoch else record)
        lines.append({ACC: 0.2 * epoch, 'data_time': 0.01, 'time': 0.1, 'step': epoch if by_epoch else epoch * 100})
    path = work_dir / timestamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    return path


def test_reads_the_newest_log_and_splits_training_and_validation(tmp_path):
    write_run(tmp_path / 'run', '20240101_000000', final_loss=9.0)
    newest = write_run(tmp_path / 'run', '20240102_000000', final_loss=1.0)
    assert find_scalars(tmp_path / 'run') == newest and find_scalars(newest) == newest
    records = read_scalars(tmp_path / 'run')
    assert len(records) == 33 and records[0]['loss'] == pytest.approx(1.3)
    x, y, label = key_series(records, 'loss')
    assert label == 'iteration' and x[[0, -1]].tolist() == [10, 300] and len(y) == 30
    x, y, label = key_series(records, ACC)
    assert label == 'epoch' and x.tolist() == [1, 2, 3] and y.tolist() == pytest.approx([0.2, 0.4, 0.6])
    write_run(tmp_path / 'iters', '20240101_000000', final_loss=1.0, by_epoch=False)
    x, _, label = key_series(read_scalars(tmp_path / 'iters'), ACC)
    assert label == 'iteration' and x.tolist() == [100, 200, 300]


def test_tool_compares_runs_in_one_figure(tmp_path):
    write_run(tmp_path / 'pretrained', '20240101_000000', final_loss=0.5)
    write_run(tmp_path / 'scratch', '20240101_000000', final_loss=1.5)
    out = tmp_path / 'figs' / 'curves.png'
    proc = subprocess.run([sys.executable, str(TOOL), str(tmp_path / 'pretrained'), str(tmp_path / 'scratch'),
                           '--keys', 'loss', ACC, '--labels', 'pretrained', 'scratch', '--out', str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    picture = np.asarray(Image.open(out).convert('RGB'))
    assert picture.shape == (520, 700, 3)  # 7 x 2.6 inches per key at 100 dpi
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 20  # lines, text and legend drawn


def test_missing_log_names_the_work_dir(tmp_path, monkeypatch):
    (tmp_path / 'empty_run').mkdir()
    monkeypatch.setattr(sys, 'argv', ['plot_curves.py', str(tmp_path / 'empty_run'), '--out', str(tmp_path / 'x.png')])
    with pytest.raises(FileNotFoundError, match=r'empty_run has no <timestamp>/vis_data/scalars.json'):
        runpy.run_path(str(TOOL), run_name='__main__')
    with pytest.raises(FileNotFoundError, match='no_such_dir does not exist'):
        read_scalars(tmp_path / 'no_such_dir')
    assert not (tmp_path / 'x.png').exists()


def test_bad_input_errors(tmp_path):
    path = write_run(tmp_path / 'run', '20240101_000000', final_loss=1.0)
    with pytest.raises(KeyError, match="no run logged 'accuracy'.*'loss'"):
        plot_curves([tmp_path / 'run'], ['accuracy'], tmp_path / 'x.png')
    with pytest.raises(ValueError, match='1 labels for 2 work dirs'):
        plot_curves([tmp_path / 'run'] * 2, ['loss'], tmp_path / 'x.png', labels=['a'])
    path.write_text(path.read_text() + '{"loss": 1.0\n')
    with pytest.raises(ValueError, match=r'scalars.json:34: not valid JSON'):
        read_scalars(tmp_path / 'run')
    with pytest.raises(ValueError, match="'loss' is not a number"):
        key_series([{'loss': [1.0], 'iter': 1}], 'loss')
