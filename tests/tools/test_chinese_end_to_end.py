"""Chinese end to end: rendered Chinese words, a tiny recognizer with the real 7937-class FudanVI head,
tools/train.py, tools/test.py with ChineseRecogMetric and tools/infer.py on a labeled folder."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmim_mm.evaluation.metrics.chinese_metric import chinese_scores
from lmim_synth.synthetic import make_synthetic, render_sample

REPO = Path(__file__).resolve().parents[2]
FUDANVI_CONFIG = REPO / 'configs' / 'textrecog' / 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-60e_fudanvi.py'
TINY_VIT = "dict(type='mmpretrain.TextViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2), out_type='raw')"


def run(cmd) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def chinese_run(tmp_path_factory):
    """32 training and 16 test words rendered in a CJK font, a labeled folder of 6 more, and a checkpoint
    of the FudanVI config (its dictionary and 7937-class head, a tiny ViT and decoder) after 4 steps."""
    root = tmp_path_factory.mktemp('chinese')
    make_synthetic(root / 'data', dict(train=32, test=16), seed=0, progress=False, lang='zh')
    for sub in ('IMG', 'label'):
        (root / 'folder' / sub).mkdir(parents=True)
    for i in range(1, 7):
        img, label = render_sample(100 + i, seed=0, split='test', lang='zh')
        (root / 'folder' / 'IMG' / f'{i}.jpg').write_bytes(img)
        (root / 'folder' / 'label' / f'{i}.txt').write_text(label, encoding='utf-8')
    config = root / 'tiny_chinese.py'
    config.write_text(f"""
_base_ = [{str(FUDANVI_CONFIG)!r}]
model = dict(backbone=dict(_delete_=True, **{TINY_VIT}), encoder=dict(in_channels=32, out_channels=32),
             decoder=dict(n_layers=1, d_model=32, n_head=2, d_k=16, d_v=16, d_inner=32))
synth_train = dict(type='LabeledLMDBDataset', data_root={str(root / 'data' / 'train')!r}, pipeline=None)
synth_test = dict(type='LabeledLMDBDataset', data_root={str(root / 'data' / 'test')!r}, test_mode=True, pipeline=None)
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dict(datasets=[synth_train]))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dict(datasets=[synth_test]))
test_dataloader = val_dataloader
val_evaluator = dict(dataset_prefixes=['synth_zh'])
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
""", encoding='utf-8')
    work_dir = root / 'work'
    out = run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir)])
    assert 'Epoch(train) [1][4/4]' in out
    assert f"dictionary coverage (train) {root / 'data' / 'train'}: " in out  # labels checked against the alphabet
    return root, config, work_dir / 'epoch_1.pth'


def test_test_tool_reports_the_chinese_metric(chinese_run):
    root, config, ckpt = chinese_run
    out = run([sys.executable, 'tools/test.py', str(config), str(ckpt), '--work-dir', str(root / 'test')])
    assert 'synth_zh/recog/sentence_acc' in out and 'synth_zh/recog/1-N.E.D' in out
    assert 'synth_zh/recog/num_too_long: 0' in out


def test_infer_reads_chinese_words_and_scores_wrong_ones_as_wrong(chinese_run):
    root, config, ckpt = chinese_run
    out = run([sys.executable, 'tools/infer.py', str(config), str(ckpt), str(root / 'folder')])
    lines = out.strip().splitlines()
    rows = [line.split('\t') for line in lines if line.startswith(str(root / 'folder' / 'IMG'))]
    labels = [(root / 'folder' / 'label' / f'{i}.txt').read_text(encoding='utf-8') for i in range(1, 7)]
    preds = [row[1] for row in rows]
    summary = json.loads(next(line for line in reversed(lines) if line.startswith('{')))
    assert summary['n'] == 6 and set(summary) == {'n', 'sentence_acc', '1-N.E.D', 'num_samples', 'num_too_long'}
    # after 4 steps the model reads no word right: Chinese words are scored, not stripped to ''
    assert all(p != g for p, g in zip(preds, labels)) and summary['sentence_acc'] == 0.0
    assert summary['1-N.E.D'] == chinese_scores(preds, labels)['1-N.E.D'] < 1
