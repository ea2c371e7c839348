"""tools/dist_train.sh, mim test, tools/infer.py and exact resumption, on tiny overrides of our configs."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lmim_mm.datasets.sources import list_folder_samples
from tests.helpers.tiny_configs import TINY_VIT, tiny_lmim_config, tiny_recognizer_config
from tests.helpers.tiny_data import write_tiny_datasets

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory, real_data_dir):
    """16 real SVT words as a labeled and an unlabeled LMDB, and a 6-image labeled folder."""
    root = tmp_path_factory.mktemp('data')
    samples = list_folder_samples(real_data_dir / 'svt_test')[:16]
    write_tiny_datasets(root, samples, folder_size=6)
    return root


def run(cmd, cwd=REPO, timeout=600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PATH=f'{Path(sys.executable).parent}:'
               + os.environ['PATH'])
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


def test_dist_train_two_cpu_processes(tmp_path, tiny_data):
    config = tiny_lmim_config(tmp_path, tiny_data)
    work_dir = tmp_path / 'work'
    env_port = str(29500 + os.getpid() % 1000)
    os.environ['PORT'] = env_port
    run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(work_dir)])
    ckpt = work_dir / 'epoch_1.pth'
    assert ckpt.is_file()
    state = torch.load(ckpt, map_location='cpu', weights_only=True)  # no allow-listed globals needed
    assert any(k.startswith('teacher.') for k in state['state_dict'])
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed launcher: pytorch' in log and "dist_cfg: {'backend': 'gloo'}" in log
    assert 'Epoch(train) [1][2/2]' in log  # 16 images / (2 processes x 4): each rank saw half of the data


@pytest.fixture(scope='module')
def recognizer_checkpoint(tmp_path_factory, tiny_data):
    tmp_path = tmp_path_factory.mktemp('recognizer')
    config = tiny_recognizer_config(tmp_path, tiny_data)
    work_dir = tmp_path / 'work'
    run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir), '--cfg-options',
         'train_cfg.max_epochs=1', 'param_scheduler.1.begin=0', 'param_scheduler.1.end=1'])
    return config, work_dir / 'epoch_1.pth'


def test_mim_test_reports_accuracy(recognizer_checkpoint, tmp_path):
    config, ckpt = recognizer_checkpoint
    proc = run([str(Path(sys.executable).parent / 'mim'), 'test', 'lmim_mm', str(config), '--checkpoint', str(ckpt),
                '--work-dir', str(tmp_path / 'test')])
    out = proc.stdout + proc.stderr
    assert 'tiny/recog/word_acc_ignore_case_symbol' in out and 'mean/recog/word_acc' in out
    assert 'tiny/recog/num_too_long: 0' in out


def test_infer_prints_words_and_summary(recognizer_checkpoint, tiny_data):
    config, ckpt = recognizer_checkpoint
    proc = run([sys.executable, 'tools/infer.py', str(config), str(ckpt), str(tiny_data / 'folder')])
    lines = proc.stdout.strip().splitlines()
    words = [line.split('\t') for line in lines if line.startswith(str(tiny_data / 'folder' / 'IMG'))]
    assert len(words) == 6 and all(len(w) == 3 and 0.0 <= float(w[2]) <= 1.0 for w in words)
    summary = json.loads(lines[-1])
    # the config's test metrics (as tools/test.py reports them, without prefixes)
    assert summary['n'] == 6 and set(summary) == {'n', 'word_acc', 'word_acc_ignore_case_symbol', '1-N.E.D',
                                                  'num_samples', 'num_too_long'}


def test_resume_reaches_identical_weights(tmp_path, tiny_data):
    """Stop after iteration 3, resume, finish at 6: bit-identical to an uninterrupted run."""
    from mmengine.config import Config

    from lmim_mm.utils.run_config import build_runner, use_cpu_settings

    def tiny_mae(work_dir: Path, resume_from=None) -> dict:
        cfg = Config.fromfile(str(REPO / 'configs' / 'mae' / 'mae_vit-s-p4_8xb128-amp-coslr-20e_union14m-u.py'))
        cfg.model.backbone = Config(eval(TINY_VIT)).to_dict()
        cfg.model.neck.update(in_channels=32, embed_dim=32, depth=1, num_heads=2)
        cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False, pin_memory=False)
        cfg.train_dataloader.dataset.data_root = str(tiny_data / 'unlabeled')
        cfg.train_cfg = dict(type='mmocr.ExactResumeIterBasedTrainLoop', max_iters=6)
        cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=6, by_epoch=False, begin=0, end=6)]
        cfg.default_hooks.checkpoint.update(by_epoch=False, interval=3, max_keep_ckpts=2)
        cfg.log_processor = dict(by_epoch=False)
        cfg.pop('test_dataloader'), cfg.pop('test_evaluator'), cfg.pop('test_cfg')
        cfg.work_dir = str(work_dir)
        cfg.experiment_name = work_dir.name
        if resume_from:
            cfg.resume, cfg.load_from = True, str(resume_from)
        use_cpu_settings(cfg)
        runner = build_runner(cfg)
        runner.train()
        return {k: v.clone() for k, v in runner.model.state_dict().items()}

    straight = tiny_mae(tmp_path / 'straight')
    resumed_dir = tmp_path / 'resumed'
    resumed_dir.mkdir()
    shutil.copy(tmp_path / 'straight' / 'iter_3.pth', resumed_dir / 'iter_3.pth')
    resumed = tiny_mae(resumed_dir, resume_from=resumed_dir / 'iter_3.pth')
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    # and the weights did change over iterations 4-6, so the check has teeth
    ckpt3 = torch.load(resumed_dir / 'iter_3.pth', weights_only=True)['state_dict']
    assert not all(torch.equal(ckpt3[k], straight[k]) for k in straight)


def test_infer_out_jsonl_and_progress_bar(recognizer_checkpoint, tiny_data, tmp_path):
    config, ckpt = recognizer_checkpoint
    out = tmp_path / 'preds.jsonl'
    proc = run([sys.executable, 'tools/infer.py', str(config), str(ckpt), str(tiny_data / 'folder'),
                '--batch-size', '4', '--out', str(out)])
    lines = [json.loads(line) for line in out.read_text(encoding='utf-8').splitlines()]
    printed = [line.split('\t') for line in proc.stdout.splitlines() if '\t' in line]
    assert len(lines) == len(printed) == 6
    for line, (image, text, score) in zip(lines, printed):
        assert set(line) == {'image', 'text', 'score', 'label'}
        assert (line['image'], line['text']) == (image, text) and abs(line['score'] - float(score)) < 1e-4
    labels = [(tiny_data / 'folder' / 'label' / f'{i}.txt').read_text(encoding='utf-8') for i in range(1, 7)]
    assert [line['label'] for line in lines] == labels
    assert '6/6' in proc.stderr and '6/6' not in proc.stdout  # the bar (two batches) goes to stderr


def test_test_show_dir_saves_prediction_pictures(recognizer_checkpoint, tmp_path):
    import cv2

    from lmim_mm.visualization.images import LINE_HEIGHT

    config, ckpt = recognizer_checkpoint
    show_dir = tmp_path / 'show'
    run([sys.executable, 'tools/test.py', str(config), str(ckpt), '--work-dir', str(tmp_path / 'work'),
         '--show-dir', str(show_dir)])
    pictures = sorted((show_dir / 'vis_data' / 'vis_image').glob('*.png'))
    assert len(pictures) == 16  # every test image, read from the LMDB by its img_path
    assert {p.name.split('_')[0] for p in pictures} == {f'image-{i:09d}' for i in range(1, 17)}
    img = cv2.imread(str(pictures[0]))
    assert img.shape == (64 + 2 * LINE_HEIGHT, 256, 3)  # the word above its prediction and ground truth
