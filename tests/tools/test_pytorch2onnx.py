"""tools/deployment/pytorch2onnx.py and ``tools/infer.py --onnx`` on a tiny recognizer fitted to IIIT5K words."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.tiny_recognizer import TINY_CONFIG, build_recognizer, fit, labeled_batch

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, f'{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


@pytest.fixture(scope='module')
def exported(tmp_path_factory, real_data_dir):
    """A checkpoint of the fitted tiny recognizer, its words as a labeled folder, and the tool's export."""
    root = tmp_path_factory.mktemp('pytorch2onnx')
    source = real_data_dir / 'iiit5k_test'
    batch, paths = labeled_batch(source, 8)
    model = build_recognizer(TINY_CONFIG)
    fit(model, batch, steps=60, lr=2e-3)
    torch.save(dict(state_dict=model.state_dict()), root / 'tiny.pth')
    for sub in ('IMG', 'label'):
        (root / 'words' / sub).mkdir(parents=True)
    for path in map(Path, paths):
        shutil.copy(path, root / 'words' / 'IMG' / path.name)
        shutil.copy(source / 'label' / f'{path.stem}.txt', root / 'words' / 'label' / f'{path.stem}.txt')
    proc = run('tools/deployment/pytorch2onnx.py', str(TINY_CONFIG), str(root / 'tiny.pth'), str(root / 'onnx'),
               '--check-images', str(source / 'IMG'), '--quantize', 'int8')
    return root, json.loads(proc.stdout.strip().splitlines()[-1])


def test_export_is_checked_against_pytorch(exported):
    root, report = exported
    assert report['check_images'] == 4
    assert report['same_words_1'] == report['same_words_5'] == 1.0
    assert report['max_prob_diff_1'] <= 1e-4 and report['max_prob_diff_5'] <= 1e-4
    assert 0 <= report['int8_same_words_1'] <= 1 and 0 <= report['int8_same_words_5'] <= 1
    assert sorted(p.name for p in (root / 'onnx').iterdir()) == ['decoder_step.onnx', 'encoder.onnx', 'int8']


def test_infer_onnx_prints_what_the_pytorch_path_prints(exported):
    root, _ = exported
    words = str(root / 'words')
    onnx_lines = run('tools/infer.py', '--onnx', str(root / 'onnx'), words).stdout.strip().splitlines()
    torch_lines = run('tools/infer.py', str(TINY_CONFIG), str(root / 'tiny.pth'), words).stdout.strip().splitlines()
    onnx_rows = [line.split('\t') for line in onnx_lines[:-1]]
    torch_rows = [line.split('\t') for line in torch_lines if line.startswith(words)]
    assert len(onnx_rows) == len(torch_rows) == 8
    assert [r[:2] for r in onnx_rows] == [r[:2] for r in torch_rows]  # images and words
    assert all(abs(float(a[2]) - float(b[2])) <= 2e-3 for a, b in zip(onnx_rows, torch_rows))
    assert json.loads(onnx_lines[-1]) == json.loads(torch_lines[-1])
    assert json.loads(onnx_lines[-1])['n'] == 8


def test_infer_needs_config_and_checkpoint_without_onnx(exported):
    root, _ = exported
    proc = subprocess.run([sys.executable, 'tools/infer.py', str(root / 'words')], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and 'CONFIG CHECKPOINT PATH, or --onnx DIR PATH' in proc.stderr


@pytest.fixture(scope='module')
def mixed_folder(tmp_path_factory, real_data_dir) -> Path:
    """40 IIIT5K words and 3 broken files: a JPEG cut in half, a text file named .png, an empty file."""
    folder = tmp_path_factory.mktemp('mixed')
    for i in range(1, 41):
        shutil.copy(real_data_dir / 'iiit5k_test' / 'IMG' / f'{i}.png', folder / f'{i}.png')
    jpeg = (real_data_dir / 'svt_test' / 'IMG' / '1.jpg').read_bytes()
    (folder / 'cut.jpg').write_bytes(jpeg[:len(jpeg) // 2])
    (folder / 'notes.png').write_text('not an image\n')
    (folder / 'empty.jpg').write_bytes(b'')
    return folder


def infer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'tools/infer.py', *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1'))


def test_infer_reads_every_good_image_and_names_every_broken_one(exported, mixed_folder, tmp_path):
    root, _ = exported
    expected = {'cut.jpg': 'truncated JPEG', 'notes.png': 'not a decodable image', 'empty.jpg': 'empty image (0 bytes)'}
    errors, models = {}, dict(pytorch=[str(TINY_CONFIG), str(root / 'tiny.pth')], onnx=['--onnx', str(root / 'onnx')])
    for engine, model in models.items():
        out = tmp_path / f'{engine}.jsonl'
        proc = infer(*model, str(mixed_folder), '--batch-size', '16', '--out', str(out))
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert len([line for line in proc.stdout.splitlines() if '\t' in line]) == 40
        records = [json.loads(line) for line in out.read_text(encoding='utf-8').splitlines()]
        assert len(records) == 43 and sum('text' in r for r in records) == 40
        errors[engine] = {Path(r['image']).name: r['error'] for r in records if 'error' in r}
        assert errors[engine].keys() == expected.keys()
        for name, reason in expected.items():  # named, with the reason, on stderr and in --out
            assert errors[engine][name].startswith(f'{mixed_folder / name}: ') and reason in errors[engine][name]
            assert f'cannot read {errors[engine][name]}' in proc.stderr
        assert '40 of 43 images read, 3 could not be read' in proc.stderr
        strict = infer(*model, str(mixed_folder), '--strict')
        assert strict.returncode != 0 and 'ImageDecodeError' in strict.stderr and 'images read' not in strict.stderr
    assert errors['pytorch'] == errors['onnx']  # one wording
