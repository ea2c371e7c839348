"""benchmarks/demo_holdout_curves.py: held-out words never train; a short run prints its curve points."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.demo_holdout_curves import HOLDOUT_EVERY, REAL_SPLITS, split_real
from lmim_synth.synthetic import make_synthetic

REPO = Path(__file__).resolve().parents[2]


def test_every_tenth_word_of_each_split_is_held_out():
    words = {name: (torch.arange(23).view(23, 1) + 1000 * size, [f'{name}{i}' for i in range(23)])
             for size, name in enumerate(('a', 'b'), 1)}
    (train_images, train_texts), held_out = split_real(words)
    assert [held_out[name][1] for name in ('a', 'b')] == [[f'{name}{i}' for i in (0, 10, 20)] for name in ('a', 'b')]
    assert len(train_texts) == 2 * 20 and not set(train_texts) & {t for _, texts in held_out.values() for t in texts}
    assert train_images.shape == (40, 1) and HOLDOUT_EVERY == 10


def test_short_run_prints_one_point_per_evaluation(tmp_path, real_data_dir):
    make_synthetic(tmp_path, dict(train=24, test=12), seed=0, progress=False, difficulty=dict(train=0.3, test=0.3))
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, '-m', 'benchmarks.demo_holdout_curves', '--name', 'smoke', '--steps', '4',
                          '--eval-every', '2', '--batch', '4', '--limit', '20', '--data-root', str(tmp_path),
                          '--real-root', str(real_data_dir), '--cfg-options', 'model.backbone.stem_depth=1'],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    points = [json.loads(line) for line in out.stdout.splitlines() if line.startswith('{')]
    assert [p['step'] for p in points] == [2, 4] and {p['name'] for p in points} == {'smoke'}
    for point in points:
        assert math.isfinite(point['loss']) and point['loss'] > 0
        assert all(0 <= point[key] <= 100 for key in (*REAL_SPLITS, 'synthetic'))


def test_the_backbone_starts_from_the_given_checkpoint(tmp_path, real_data_dir):
    """``model.backbone.init_cfg.checkpoint`` is loaded (as the runner does): a missing file stops the run."""
    make_synthetic(tmp_path, dict(train=8, test=4), seed=0, progress=False, difficulty=dict(train=0.3, test=0.3))
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    missing = tmp_path / 'no_such_student.pth'
    out = subprocess.run([sys.executable, '-m', 'benchmarks.demo_holdout_curves', '--name', 'init', '--steps', '1',
                          '--batch', '2', '--limit', '10', '--data-root', str(tmp_path), '--real-root',
                          str(real_data_dir), '--cfg-options', f'model.backbone.init_cfg.checkpoint={missing}'],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0 and str(missing) in out.stderr


def test_random_keys_restart_only_the_matching_backbone_entries():
    """``--random-keys``: matching entries get the random init of a checkpoint-free twin, the rest stay."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmocr.registry import MODELS

    from benchmarks.demo_holdout_curves import restart_backbone_keys

    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / 'recognizer_tiny.py'))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        torch.manual_seed(0)
        twin = MODELS.build(cfg.model)
        twin.init_weights()
        model = MODELS.build(cfg.model)
        with torch.no_grad():
            for value in model.backbone.parameters():
                value.fill_(0.5)
        reset = restart_backbone_keys(model, cfg.model, r'^patch_embed\.', seed=0)
        with pytest.raises(ValueError, match=r"'\^backbone' matches no backbone entry"):
            restart_backbone_keys(model, cfg.model, '^backbone', seed=0)
    assert reset and all(name.startswith('patch_embed.') for name in reset)
    expected = twin.backbone.state_dict()
    for name, value in model.backbone.named_parameters():
        if name in reset:
            assert torch.equal(value, expected[name]), name
        else:
            assert torch.all(value == 0.5), name
