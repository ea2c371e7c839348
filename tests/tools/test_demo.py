"""The main job, tools/demo.py (`make demo`), end to end at a tiny scale."""
import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
SPLITS = ('iiit5k_train', 'svt_train', 'ic15_train', 'iiit5k_test', 'svt_test')


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


def run_demo(work_dir: Path, real_root: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, 'tools/demo.py', '--scale', '0.005', '--work-dir', str(work_dir),
                           '--real-root', str(real_root), '--workers', '1', *args],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def demo(real_data_dir, tmp_path_factory) -> Tuple[Path, Path, subprocess.CompletedProcess]:
    """The demo run once at tiny scale: its work dir, the real-data root and the finished process."""
    root = tmp_path_factory.mktemp('demo')
    work_dir, real_root = root / 'demo', small_real_root(real_data_dir, root / 'real')
    with pytest.raises(AssertionError, match='run `make demo`'):  # the comparison needs the demo's student
        run_demo(work_dir, real_root, '--compare')
    return work_dir, real_root, run_demo(work_dir, real_root)


def test_demo_pretrains_fine_tunes_and_reports(demo):
    work_dir, _, proc = demo
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
    assert results['plan']['difficulty'] >= 0.3
    log = (work_dir / 'recognizer_scratch' / 'train.log').read_text()
    assert 'aux_loss_ctc' in log  # the demo recognizer trains with its auxiliary CTC decoder
    # the real train words (6 of each of the 3 splits) fine-tune beside the rendered ones, counts logged
    rendered = results['plan']['sizes']['train']
    repeats = round(rendered / 18)  # real share 0.5
    assert f'fine-tuning data: {rendered} rendered + 18 real words x {repeats}' in proc.stdout
    assert 'none of the' in proc.stdout and 'training images is a test image' in proc.stdout


def test_demo_compare_fine_tunes_on_few_labels_and_probes_with_two_seeds(demo):
    work_dir, real_root, _ = demo
    proc = run_demo(work_dir, real_root, '--compare')
    compared = json.loads((work_dir / 'results_compare.json').read_text())
    assert set(compared['table']) == {'synthetic', 'IIIT5K', 'SVT'}
    assert set(compared['table']['synthetic']) == {'pretrained s0', 'scratch s0', 'pretrained s1', 'scratch s1'}
    assert all(len(per_run[run]['WAICS']) == 2 for per_run in compared['summary'].values()
               for run in ('pretrained', 'scratch'))
    assert 'reusing' in proc.stdout and f"{compared['labels']} labels" in proc.stdout
    assert list(compared['probe']) == ['random init', 'MAE teacher', 'LMIM student']
    for per_seed in compared['probe'].values():
        assert list(per_seed) == ['0', '1'] and all(0 <= r['test_acc'] <= 100 for r in per_seed.values())
    assert 'linear CTC probe' in proc.stdout


def test_gpu_preset_is_bigger_and_uses_bf16():
    demo = runpy.run_path(str(REPO / 'tools' / 'demo.py'))
    cpu, gpu = demo['demo_plan']('cpu', 1.0), demo['demo_plan']('gpu', 1.0)
    assert gpu['batch'] > cpu['batch'] and gpu['sizes']['train'] > cpu['sizes']['train']
    assert all(gpu['iters'][k] * gpu['batch'] > cpu['iters'][k] * cpu['batch'] for k in cpu['iters'])
    assert gpu['difficulty'] >= 0.3 and cpu['difficulty'] >= 0.3
    assert demo['schedule_options'](100, gpu)[0] == '--amp' and '--amp' not in demo['schedule_options'](100, cpu)
    tiny = demo['demo_plan']('cpu', 0.005)
    assert tiny['iters']['recog'] == int(demo['PRESETS']['cpu']['recog'] * 0.005) and tiny['low_label'] == 5
    assert gpu['recog_batch'] > cpu['recog_batch']
    warmup = demo['schedule_options'](2400, cpu, recognizer=True)
    assert 'param_scheduler.0.end=300' in warmup and f'train_dataloader.batch_size={cpu["recog_batch"]}' in warmup
    # no data worker processes on the CPU preset (they preempt the compute threads), 8 on the GPU preset
    assert 'train_dataloader.num_workers=0' in warmup and 'train_dataloader.persistent_workers=False' in warmup
    assert 'train_dataloader.persistent_workers=True' in demo['schedule_options'](100, gpu)
    # the two CPU fine-tunes run side by side, one thread each (lanes); one at a time on the GPU
    assert cpu['lanes'] == 2 and gpu['lanes'] == 1


def test_in_lanes_runs_jobs_side_by_side_and_raises_a_failure():
    import threading

    demo = runpy.run_path(str(REPO / 'tools' / 'demo.py'))
    busy, lanes_seen, lock, second_started = set(), set(), threading.Lock(), threading.Event()

    def job(name, lane):
        with lock:
            assert lane[0] not in busy, f'{name}: lane {lane} is busy'
            busy.add(lane[0])
            lanes_seen.add(lane)
        if name == 'a':  # the first job ends only once another one runs beside it
            assert second_started.wait(10), 'no job ran beside the first one'
        else:
            second_started.set()
        with lock:
            busy.remove(lane[0])
        return name.upper()

    jobs = {name: (lambda lane, name=name: job(name, lane)) for name in 'abcde'}
    assert demo['in_lanes'](jobs, 2) == {name: name.upper() for name in 'abcde'}
    assert lanes_seen == {(0, 2), (1, 2)}

    def fail(lane):
        raise RuntimeError('stage broke')

    with pytest.raises(RuntimeError, match='stage broke'):
        demo['in_lanes']({'ok': lambda lane: 1, 'bad': fail}, 2)


def test_no_test_image_may_enter_training(real_data_dir, tmp_path):
    """The demo's hash check passes on the real splits and names a test image copied into a training set."""
    from lmim_mm.datasets.sources import files_to_lmdb

    demo = runpy.run_path(str(REPO / 'tools' / 'demo.py'))
    real_root = small_real_root(real_data_dir, tmp_path / 'real')
    train, val, _ = demo['real_train_words'](str(real_root), holdout=True)
    assert len(train) == 15 and len(val) == 3  # every 10th word of each split held out (index 0 of 6)
    assert not {path for path, _ in train} & {path for path, _ in val}
    files_to_lmdb(train, tmp_path / 'clean', progress=False)
    tests = {'IIIT5K': str(real_root / 'iiit5k_test'), 'SVT': str(real_root / 'svt_test')}
    assert demo['assert_no_test_images']([str(tmp_path / 'clean')], tests) == 15
    leaked = str(real_root / 'svt_test' / 'IMG' / '4.jpg')
    files_to_lmdb([*train[:3], (leaked, 'X')], tmp_path / 'leaky', progress=False)
    with pytest.raises(ValueError, match=f'test image {leaked} is in the training data: .*leaky, sample 4'):
        demo['assert_no_test_images']([str(tmp_path / 'clean'), str(tmp_path / 'leaky')], tests)


def test_real_repeats_give_the_asked_share(tmp_path):
    from lmim_mm.datasets.sources import write_lmdb

    demo = runpy.run_path(str(REPO / 'tools' / 'demo.py'))
    write_lmdb([(b'x', 'a')] * 300, tmp_path / 'train', progress=False)
    write_lmdb([(b'y', 'b')] * 50, tmp_path / 'real_train', progress=False)
    assert demo['real_repeats'](str(tmp_path), 0.5) == (6, 300, 50)
    assert demo['real_repeats'](str(tmp_path), 0.25) == (2, 300, 50)
    assert demo["real_repeats"](str(tmp_path), 0.0)[0] == 0
    assert demo["real_repeats"](str(tmp_path), 0.01) == (1, 300, 50)  # at least once when asked for
    with pytest.raises(ValueError, match='real_share=1'):
        demo['real_repeats'](str(tmp_path), 1.0)


def test_demo_prepares_without_real_benchmarks(tmp_path):
    """A machine with only this repository: rendered words only, a rendered scene-like test split, one line
    on where the real benchmark folders would go."""
    proc = subprocess.run([sys.executable, 'tools/demo.py', '--scale', '0.005', '--work-dir', str(tmp_path / 'demo'),
                           '--real-root', str(tmp_path / 'nowhere'), '--workers', '1', '--prepare-only'],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'no real benchmark folders under' in proc.stdout and '--real-root DIR' in proc.stdout
    assert 'rendered + 0 real words x 0' in proc.stdout
    from mmengine.config import Config

    cfg = Config.fromfile(str(tmp_path / 'demo' / 'recognizer.py'))
    assert cfg.test_evaluator.dataset_prefixes == ['synthetic', 'scene']
    roots = [d.data_root for d in cfg.test_dataloader.dataset.datasets]
    assert roots == [str(tmp_path / 'demo' / 'data' / 'test'), str(tmp_path / 'demo' / 'data' / 'val')]
    assert [d.data_root for d in cfg.train_dataloader.dataset.datasets] == [str(tmp_path / 'demo' / 'data' / 'train')]
    assert not (tmp_path / 'demo' / 'data' / 'real_train').exists()
