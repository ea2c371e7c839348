"""``tools/dist_train.sh`` with 2 processes: a skip on rank 1 is logged, and the epoch total sums both ranks."""
import os
import subprocess
import sys
from pathlib import Path

from lmim_mm.datasets.sources import list_folder_samples, write_lmdb

REPO = Path(__file__).resolve().parents[2]


def test_skips_logged_on_every_rank_and_summed(tmp_path, real_data_dir):
    images = [Path(path).read_bytes() for path, _ in list_folder_samples(real_data_dir / 'svt_test')[:16]]
    for bad in (1, 3):  # odd indices: rank 1's share without shuffling
        images[bad] = images[bad][:len(images[bad]) // 2]
    root = tmp_path / 'u.lmdb'
    write_lmdb(((img, None) for img in images), root, progress=False)
    base, = sorted((REPO / 'configs' / 'mae').glob('*.py'))
    config = tmp_path / 'tiny_mae.py'
    config.write_text(f"""
_base_ = [{str(base)!r}]
model = dict(backbone=dict(_delete_=True, type='mmpretrain.TextViT',
                           arch=dict(embed_dims=32, num_layers=1, num_heads=2), out_type='raw'),
             neck=dict(in_channels=32, embed_dim=32, depth=1, num_heads=2))
train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=False, pin_memory=False,
                        sampler=dict(shuffle=False),
                        dataset=dict(data_root={str(root)!r}, max_skip_fraction=0.5))
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=10))
""")
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PORT=str(29600 + os.getpid() % 1000))
    proc = subprocess.run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(work_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    for key in ('image-000000002', 'image-000000004'):
        assert f'[rank 1] WARNING - UnlabeledLMDBDataset: skipped undecodable image {root}/{key}: truncated JPEG' in out
    log = next(work_dir.glob('*/*.log')).read_text()
    assert (f'epoch 1: {root}: 16 images read, 2 skipped as unreadable, 0 samples filtered (all ranks and '
            f'workers)') in log
