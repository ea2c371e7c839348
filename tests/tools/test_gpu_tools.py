"""The offline-install and GPU-run helpers on CPU: lmim_mm.compat, benchmarks/self_check.py,
tools/analysis_tools/data_wait.py and tools/gpu_run.sh's dry run."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lmim_mm import compat
from tools.analysis_tools import data_wait

REPO = Path(__file__).resolve().parents[2]


def test_numpy_2_gets_numpy_1_sctypes_back(monkeypatch):
    original = {kind: list(types) for kind, types in np.sctypes.items()} if 'sctypes' in vars(np) else None
    monkeypatch.setattr(np, '__version__', '2.0.0')
    if 'sctypes' in vars(np):
        monkeypatch.delattr(np, 'sctypes')
    compat.restore_numpy_sctypes()
    assert np.sctypes['float'][:3] == [np.float16, np.float32, np.float64]
    assert np.sctypes['int'] == [np.int8, np.int16, np.int32, np.int64]
    if original is not None:  # numpy 1: the very value numpy 1 has
        assert np.sctypes == original


def test_mmpretrain_multimodal_stays_unimported():
    code = ('import lmim_mm, mmpretrain.utils.dependency as dep, mmpretrain.models.multimodal as mm; '
            'print(dep.WITH_MULTIMODAL, hasattr(mm, "Blip2Caption"))')
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'PYTHONPATH': str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['False', 'False']


def test_self_check_trains_the_recognizer_on_cpu():
    proc = subprocess.run([sys.executable, '-m', 'benchmarks.self_check', '--device', 'cpu', '--batch', '2'],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report['ok'] and report['device'] == 'cpu' and np.isfinite(report['loss'])
    assert {'torch', 'mmcv', 'mmengine', 'mmdet', 'mmocr', 'mmpretrain', 'lmim_mm', 'torchvision'} <= set(
        report['versions'])


def write_scalars(work_dir: Path, lines: list) -> None:
    folder = work_dir / '20260101_000000' / 'vis_data'
    folder.mkdir(parents=True)
    (folder / 'scalars.json').write_text(''.join(json.dumps(line) + '\n' for line in lines))


def test_data_wait_share_from_logged_scalars(tmp_path):
    write_scalars(tmp_path, [dict(lr=1e-4, data_time=0.5, time=1.0, iter=10), dict(data_time=0.1, time=0.5, iter=20),
                             {'recog/word_acc': 0.5, 'step': 1}, dict(data_time=0.0, time=0.5, iter=30)])
    result = data_wait.main([str(tmp_path), '--name', 'run', '--batch', '64'])
    assert result['logged'] == 3 and result['last_iter'] == 30
    assert result['data_wait_share'] == pytest.approx(0.6 / 2.0)
    assert result['data_wait_share_after_first'] == pytest.approx(0.1 / 1.0)
    assert result['images_per_s'] == pytest.approx(64 / (2.0 / 3))


def test_data_wait_names_a_run_without_logs(tmp_path):
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        data_wait.training_lines(tmp_path)
