"""The main job, tools/demo.py (`make demo`), end to end at a tiny scale."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPLITS = ('iiit5k_train', 'svt_train', 'iiit5k_test', 'svt_test')


def small_real_root(real_data_dir: Path, root: Path, per_split: int = 6) -> Path:
    """The first ``per_split`` words of every real split, in the same IMG/ + label/ layout."""
    for split in SPLITS:
        for sub in ('IMG', 'label'):
            (root / split / sub).mkdir(parents=True)
        for index in range(1, per_split + 1):
            image = next((real_data_dir / split / 'IMG').glob(f'{index}.*'))
            shutil.copy(image, root / split / 'IMG' / image.name)
            shutil.copy(real_data_dir / split / 'label' / f'{index}.txt', root / split / 'label')
    return root


def test_demo_pretrains_fine_tunes_and_reports(real_data_dir, tmp_path):
    work_dir = tmp_path / 'demo'
    real_root = small_real_root(real_data_dir, tmp_path / 'real')
    proc = subprocess.run([sys.executable, 'tools/demo.py', '--scale', '0.005', '--work-dir', str(work_dir),
                           '--real-root', str(real_root), '--workers', '1'],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((work_dir / 'results.json').read_text())
    assert set(results['table']) == {'synthetic', 'IIIT5K', 'SVT'}
    for per_model in results['table'].values():
        assert set(per_model) == {'pretrained', 'scratch'}
        assert all(0 <= value <= 100 for metrics in per_model.values() for value in metrics.values())
    for name, run in results['runs'].items():
        assert Path(run['checkpoint']).is_file() and Path(run['config']).is_file(), name
    assert list(results['token_stats']) == ['random init', 'MAE teacher', 'LMIM student', 'fine-tuned pretrained',
                                            'fine-tuned scratch']
    assert all(0 < stats['effective_rank'] <= 128 for stats in results['token_stats'].values())
    pictures = {p.name for p in (work_dir / 'pictures').iterdir()}
    assert pictures == {'mae_reconstruction.png', 'lmim_similarity.png', 'samples_pretrained.png',
                        'samples_scratch.png', 'curves_pretraining.png', 'curves_finetuning.png'}
    assert 'encoder (patch tokens)' in proc.stdout and 'synthetic  pretrained' in proc.stdout
