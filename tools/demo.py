"""The main job (`make demo`): LMIM pretraining end to end, and recognizers that read.

1. synthetic word images (labeled train/test + unlabeled, all at one ``difficulty``) and the real
   IIIT5K / SVT / ICDAR2015 *train* words (:data:`REAL_TRAIN`); a hash check that no test image is
   among them (without the real folders: rendered words only and a rendered scene-like test split);
2. an MAE teacher (TextMAE) on the unlabeled images and the real train images (labels unused);
3. LMIM with that teacher;
4. the recognizer fine-tuned from the LMIM student, and the same recognizer from scratch with the same
   budget, on the rendered words and the real train words (``real_share`` of the stream), side by side in two
   lanes (``lanes`` of the preset), each tool with its share of the cores;
5. both evaluated on the synthetic test split and on real IIIT5K / SVT test images (or a folder given
   with --data): one table (WAICS, case-sensitive accuracy, 1-NED), also in
   work_dirs/demo/results.json;
6. how distinct the patch tokens of each encoder are (tools/analysis_tools/token_stats.py).

``--compare`` (`make demo-compare`, after the demo) fine-tunes from the demo's LMIM student and from
scratch on only ``low_label`` labeled words, two seeds each (the regime where self-supervised
pretraining helps most), and measures how readable the frozen encoders' tokens are to a linear CTC
probe, two seeds (tools/analysis_tools/probe_encoder.py: random init, MAE teacher, LMIM student);
both tables also in work_dirs/demo/results_compare.json. Its four fine-tunes run two at a time.

Each stage runs the real tools (tools/train.py, tools/test.py) on the configs in configs/demo/.
``--preset gpu`` (`make demo GPU=1`) is the scale-up for one large GPU (bf16, bigger batches, more data
and steps); DEMO_SCALE (env or --scale) multiplies data sizes and iterations of either preset.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from queue import Queue
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from lmim_mm.datasets.sources import FileSample, is_lmdb

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

ITER_PATTERN = re.compile(r'Iter\((train|test)\)\s*\[\s*(\d+)/\s*(\d+)\]')
#: reported metric -> key suffix in the evaluator output
METRICS = {'WAICS': 'recog/word_acc_ignore_case_symbol', 'acc_case': 'recog/word_acc', '1-NED': 'recog/1-N.E.D'}
#: Real labeled train splits under --real-root (IMG/ + label/): fine-tuning labels, and pretraining images
#: (without their labels).
REAL_TRAIN = ('iiit5k_train', 'svt_train', 'ic15_train')
#: Real test splits (name -> folder under --real-root): evaluation only; no image of theirs may be in a training set.
REAL_TEST = {'IIIT5K': 'iiit5k_test', 'SVT': 'svt_test'}
#: --holdout: every HOLDOUT_EVERY-th word of each real train split is held out as validation (recipe choice).
HOLDOUT_EVERY = 10
#: Sizes (images), iterations and batch sizes (pretraining / recognizer) of each preset; --scale
#: multiplies sizes and iterations. 'cpu' aims at 30 minutes of a 2-core CPU (after 100 MAE steps the LMIM
#: student's fine-tune stayed on the plateau, after 800 it did not), with no data worker processes: on two
#: cores a worker process preempts the two compute threads (a fine-tuning step took 0.33-0.45 s with one
#: worker, 0.26-0.29 s without); 'gpu' is sized for ~8 minutes of
#: one H200-class GPU in bf16 from the GPU recipe sweep's step costs (README, "Scale-up").
#: ``lanes``: fine-tunes run that many at a time, each tool with ``cpu_count // lanes`` threads. On the
#: 2-core CPU two one-thread fine-tunes took 0.28 s per step of 32 each, one two-thread fine-tune 0.23 s:
#: two lanes finish both in 60% of the time.
#: The recognizer warms up over the first eighth of its iterations.
PRESETS: Dict[str, Dict[str, float]] = {
    'cpu': dict(train=20000, test=1000, unlabeled=6000, difficulty=0.3, mae=500, lmim=50, recog=4000, batch=64,
                recog_batch=32, low_label=1000, low_label_recog=1200, probe_train=2000, probe_steps=300, workers=0,
                lanes=2, real_share=0.5),
    'gpu': dict(train=100000, test=2000, unlabeled=100000, difficulty=0.3, mae=1500, lmim=800, recog=4000,
                batch=256, recog_batch=128, low_label=1000, low_label_recog=2000, probe_train=5000, probe_steps=500,
                workers=8, lanes=1, real_share=0.5),
}
RECOG_WARMUP_SHARE = 1 / 8
SEEDS = (0, 1)
#: probe results shown in the table (held-out words: word accuracy and 1-NED in %, CTC loss)
PROBE_COLUMNS = ('test_acc', 'test_one_minus_ned', 'test_loss')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='lmim_mm demo: MAE teacher -> LMIM -> fine-tune vs scratch')
    parser.add_argument('--preset', choices=sorted(PRESETS), default=os.environ.get('DEMO_PRESET', 'cpu'),
                        help="'cpu' (~23 min on 2 cores) or 'gpu' (~8 min on one H200, bf16) (env DEMO_PRESET)")
    parser.add_argument('--scale', type=float, default=float(os.environ.get('DEMO_SCALE', 1)),
                        help='multiplies data sizes and iterations (env DEMO_SCALE)')
    parser.add_argument('--compare', action='store_true',
                        help='after the demo: low-label fine-tuning, pretrained vs scratch, two seeds each')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo'))
    parser.add_argument('--data', default=os.environ.get('DATA') or None,
                        help='extra labeled test folder (IMG/ + label/), reported as "custom"')
    parser.add_argument('--real-root', default=osp.join(REPO, '..', 'shared', 'data', 'real_benchmarks'),
                        help=f'folder with the real splits {", ".join(REAL_TRAIN + tuple(REAL_TEST.values()))} '
                        '(each IMG/ + label/)')
    parser.add_argument('--real-share', type=float, default=None,
                        help="share of real words in the fine-tuning stream (default: the preset's)")
    parser.add_argument('--holdout', action='store_true',
                        help=f'hold every {HOLDOUT_EVERY}th real train word out as validation and test on those '
                        '(choosing a recipe; the real test splits are not used)')
    parser.add_argument('--prepare-only', action='store_true',
                        help="make the data and the recognizer's config, then stop")
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='rendering processes')
    return parser.parse_args()


def demo_plan(preset: str, scale: float) -> Dict[str, Any]:
    """Sizes, difficulty, iterations and batch size of a run: the preset scaled by ``scale``."""
    base = PRESETS[preset]
    sizes = dict(train=int(base['train'] * scale), test=int(base['test'] * min(scale, 2)),
                 unlabeled=int(base['unlabeled'] * scale))
    iters = {key: max(2, int(base[key] * scale)) for key in ('mae', 'lmim', 'recog', 'low_label_recog')}
    return dict(sizes=sizes, iters=iters, difficulty=base['difficulty'], batch=int(base['batch']),
                recog_batch=int(base['recog_batch']),
                low_label=max(2, int(base['low_label'] * min(scale, 1))), workers=int(base['workers']),
                lanes=int(base['lanes']), real_share=float(base['real_share']),
                probe_train=max(8, int(base['probe_train'] * min(scale, 1))),
                probe_steps=max(2, int(base['probe_steps'] * min(scale, 1))), amp=preset == 'gpu')


def run_stage(name: str, cmd: List[str], log_path: str, output: Optional[str] = None,
              lane: Optional[Tuple[int, int]] = None) -> None:
    """Run a tool, log its output to ``log_path`` and show its iterations as a progress bar; skip it
    when its ``output`` file exists already (a re-run goes on where an interrupted demo stopped).
    ``lane = (index, lanes)``: the tool gets ``cpu_count // lanes`` threads and its bar row ``index``."""
    if output and osp.exists(output):
        print(f'  {name}: reusing {osp.relpath(output, REPO)}')
        return
    mode = 'test' if 'tools/test.py' in cmd else 'train'
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    index, lanes = lane or (0, 1)
    env = None
    if lanes > 1:
        threads = str(max(1, (os.cpu_count() or 1) // lanes))
        env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    bar = tqdm(desc=f'{name:<24}', unit='it', dynamic_ncols=True, position=index)
    start = time.time()
    with open(log_path, 'w') as log, subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                      text=True, bufsize=1, env=env) as proc:
        for line in proc.stdout:
            log.write(line)
            match = ITER_PATTERN.search(line)
            if match and match.group(1) == mode:
                bar.total = int(match.group(3))
                bar.n = int(match.group(2))
                bar.refresh()
        proc.wait()
    bar.close()
    if proc.returncode:
        with open(log_path) as f:
            tail = ''.join(f.readlines()[-30:])
        raise RuntimeError(f'stage {name!r} failed (exit {proc.returncode}); log {log_path}:\n{tail}')
    print(f'  {name} done in {time.time() - start:.0f} s (log: {osp.relpath(log_path, REPO)})')


def real_train_words(real_root: str, holdout: bool) -> Tuple[List[FileSample], List[FileSample], int]:
    """The labeled words of the real train splits, shuffled with a fixed seed (so that the first N are a
    mix of all splits), spaces removed from their labels (the charset has no space: 'M A C B E T H' is
    read as 'MACBETH').

    Returns:
        ``(train, val, labels_with_spaces)``; ``val`` holds every :data:`HOLDOUT_EVERY`-th word of
        each split when ``holdout`` (and is empty otherwise).
    """
    from lmim_mm.datasets.sources import list_folder_samples

    train, val, spaced = [], [], 0
    for split in REAL_TRAIN:
        for index, (path, label) in enumerate(list_folder_samples(osp.join(real_root, split))):
            spaced += ' ' in label
            (val if holdout and index % HOLDOUT_EVERY == 0 else train).append((path, label.replace(' ', '')))
    random.Random(0).shuffle(train)
    return train, val, spaced


def assert_no_test_images(train_lmdbs: Sequence[str], test_folders: Dict[str, str]) -> int:
    """Check by SHA-1 of the image bytes that no test image is in a training LMDB.

    Returns:
        The number of training images checked.

    Raises:
        ValueError: naming the test image and the training LMDB and index that hold it.
    """
    from lmim_mm.datasets.sources import list_folder_samples, open_source

    test_images = {hashlib.sha1(Path(path).read_bytes()).hexdigest(): path for folder in test_folders.values()
                   for path, _ in list_folder_samples(folder)}
    checked = 0
    for lmdb in train_lmdbs:
        for index, (img, _) in enumerate(open_source(lmdb).samples(), 1):
            test_image = test_images.get(hashlib.sha1(img).hexdigest())
            if test_image:
                raise ValueError(f'test image {test_image} is in the training data: {lmdb}, sample {index}')
            checked += 1
    return checked


def find_real_root(real_root: str) -> Optional[str]:
    """``real_root`` when it holds every real split; else None, after one line on where they would go."""
    missing = [split for split in (*REAL_TRAIN, *REAL_TEST.values()) if not osp.isdir(osp.join(real_root, split))]
    if not missing:
        return real_root
    print(f'  no real benchmark folders under {osp.abspath(real_root)} (missing: {", ".join(missing)}): rendered '
          'words only, tested on rendered scene-like words; put the IMG/ + label/ folders there or pass '
          '--real-root DIR (make demo DATA=DIR also tests on your own labeled folder)')
    return None


def test_folders(args: argparse.Namespace) -> Dict[str, str]:
    """The real test sets (name -> IMG/ + label/ folder): IIIT5K and SVT test, or the ``--data`` folder alone
    (none without real benchmark folders)."""
    if args.data:
        return {'custom': osp.abspath(args.data)}
    return {name: osp.join(args.real_root, split) for name, split in REAL_TEST.items()} if args.real_root else {}


def prepare_data(args: argparse.Namespace, sizes: Dict[str, int], difficulty: float) -> str:
    """Rendered LMDBs (labeled train/test, unlabeled) and the real train words (``real_train``, labeled;
    ``real_val`` with --holdout), reused when already made; checks (every time) that no test image is
    among them. Without real benchmark folders, a rendered scene-like test split (``val``, difficulty 1) instead."""
    rendered = dict(sizes) if args.real_root else dict(sizes, val=sizes['test'])
    data_root = osp.join(args.work_dir, 'data')
    stamp = osp.join(data_root, '.done_' + '_'.join(f'{k}{v}' for k, v in sorted(rendered.items()))
                     + f'_d{difficulty}' + ('_holdout' if args.holdout else '') + ('' if args.real_root else '_noreal'))
    if osp.exists(stamp):
        print(f'  data: reusing {data_root}')
    else:
        make_data(args, data_root, rendered, difficulty)
        open(stamp, 'w').close()
    tests = test_folders(args)
    if tests:
        checked = assert_no_test_images([osp.join(data_root, name) for name in ('train', 'unlabeled', 'real_train')
                                         if osp.isdir(osp.join(data_root, name))], tests)
        print(f'  none of the {checked} training images is a test image ({", ".join(tests)}: SHA-1 of the bytes)')
    return data_root


def make_data(args: argparse.Namespace, data_root: str, rendered: Dict[str, int], difficulty: float) -> None:
    """Render the LMDBs of ``rendered`` (the ``val`` split at difficulty 1) into ``data_root`` and write the
    real train words (and with --holdout the held-out ones)."""
    from lmim_mm.datasets.sources import files_to_lmdb
    from lmim_synth.synthetic import make_synthetic

    if osp.isdir(data_root):  # made for other sizes (or interrupted): start again
        shutil.rmtree(data_root)
    start = time.time()
    make_synthetic(data_root, rendered, seed=0, workers=args.workers,
                   difficulty={split: 1.0 if split == 'val' else difficulty for split in rendered})
    message = f'  data: {rendered} rendered words (difficulty {difficulty}{"" if args.real_root else ", val 1"})'
    if args.real_root:
        real_train, real_val, spaced = real_train_words(args.real_root, args.holdout)
        files_to_lmdb(real_train, osp.join(data_root, 'real_train'), progress=False)
        if real_val:
            files_to_lmdb(real_val, osp.join(data_root, 'real_val'), progress=False)
        message += (f' + {len(real_train)} real train words ({", ".join(REAL_TRAIN)}; {spaced} labels with spaces, '
                    'spaces removed)' + (f', {len(real_val)} held out as validation' if real_val else ''))
    print(f'{message}; {time.time() - start:.0f} s')


def real_repeats(data_root: str, real_share: float) -> Tuple[int, int, int]:
    """How often the real train words repeat in the fine-tuning stream so that they make about
    ``real_share`` of it (0 without real train words).

    Returns:
        ``(repeats, rendered words, real words)``.
    """
    from lmim_mm.datasets.sources import LMDBSource

    if not 0 <= real_share < 1:
        raise ValueError(f'real_share={real_share}: expected a share in [0, 1)')
    rendered = len(LMDBSource(osp.join(data_root, 'train')))
    if not osp.isdir(osp.join(data_root, 'real_train')):
        return 0, rendered, 0
    real = len(LMDBSource(osp.join(data_root, 'real_train')))
    return (max(1, round(real_share / (1 - real_share) * rendered / real)) if real_share else 0), rendered, real


def schedule_options(iters: int, plan: Dict[str, Any], extra: Optional[List[str]] = None,
                     recognizer: bool = False) -> List[str]:
    """``--cfg-options`` that set an iteration budget (loop, warm-up, cosine, checkpoint) and the
    batch size / data workers of ``plan`` (the recognizer's batch and warm-up when ``recognizer``);
    ``--amp`` for the GPU preset."""
    warmup = max(1, int(iters * RECOG_WARMUP_SHARE) if recognizer else min(100, iters // 10))
    batch = plan['recog_batch'] if recognizer else plan['batch']
    return [*(['--amp'] if plan['amp'] else []), '--cfg-options', f'train_cfg.max_iters={iters}',
            f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}', f'param_scheduler.1.end={iters}',
            f'default_hooks.logger.interval={max(1, min(25, iters // 10))}',
            f'default_hooks.checkpoint.interval={iters}', f'train_dataloader.batch_size={batch}',
            f'train_dataloader.num_workers={plan["workers"]}',
            f'train_dataloader.persistent_workers={plan["workers"] > 0}', *(extra or [])]


def pretrain_data_options(data_root: str) -> List[str]:
    """The unlabeled pretraining images: the rendered unlabeled split and the real train words' images."""
    roots = [f'{data_root}/{name}' for name in ('unlabeled', 'real_train') if osp.isdir(f'{data_root}/{name}')]
    return [f'train_dataloader.dataset.data_root=[{",".join(roots)}]']


def write_recognizer_config(work_dir: str, data_root: str, args: argparse.Namespace, plan: Dict[str, Any],
                            low_label: Optional[int] = None) -> str:
    """``work_dir/recognizer.py``: configs/demo/recognizer_tiny.py with this run's data.

    Fine-tuning: the rendered train words and the real train words, repeated to make ``plan['real_share']``
    of the stream (or ``--real-share``); with ``low_label``, only the first ``low_label`` real (or, without
    real words, rendered) words. Tests: the synthetic test split, then IIIT5K and SVT test, or the ``--data``
    folder alone, or with ``--holdout`` the held-out real train words ('val'), or without real benchmark
    folders the rendered scene-like split ('scene').
    """
    real_share = plan['real_share'] if args.real_share is None else args.real_share
    repeats, rendered, real = real_repeats(data_root, real_share)
    train_sets = [f"dict(_base_.rendered_train_set, data_root={data_root + '/train'!r})"]
    if low_label:
        source = 'real_train' if real else 'train'
        train_sets = [f"dict(_base_.real_train_set.dataset, data_root={f'{data_root}/{source}'!r}, "
                      f"num_samples={low_label})"]
        print(f'  fine-tuning data: the first {low_label} of {real or rendered} {"real" if real else "rendered"} '
              'train words')
    else:
        if repeats:
            train_sets.append(f"dict(_base_.real_train_set, times={repeats}, dataset=dict("
                              f"_base_.real_train_set.dataset, data_root={data_root + '/real_train'!r}))")
        print(f'  fine-tuning data: {rendered} rendered + {real} real words x {repeats} '
              f'(real share {repeats * real / (rendered + repeats * real):.2f}, asked {real_share})')
    tests = ({'val': f'{data_root}/real_val'} if args.holdout else test_folders(args)) or {'scene': f'{data_root}/val'}
    sets = [dict(type='LabeledLMDBDataset', data_root=f'{data_root}/test', test_mode=True, pipeline=None)]
    for name, folder in tests.items():
        if not osp.isdir(folder):
            raise FileNotFoundError(f'test folder for {name} not found: {folder} (expected IMG/ + label/)')
        kind = 'LabeledLMDBDataset' if is_lmdb(folder) else 'RecogFolderDataset'
        sets.append(dict(type=kind, data_root=folder, test_mode=True, pipeline=None))
    text = f"""# Written by tools/demo.py: the demo recognizer with this run's data.
_base_ = [{osp.join(REPO, 'configs', 'demo', 'recognizer_tiny.py')!r}]
train_dataloader = dict(dataset=dict(datasets=[{', '.join(train_sets)}]))
val_dataloader = dict(dataset=dict(datasets=[{sets[0]!r}]))
test_dataloader = dict(dataset=dict(datasets={sets!r}))
test_evaluator = dict(dataset_prefixes={['synthetic', *tests]!r})
"""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'recognizer.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def read_test_metrics(work_dir: str) -> Dict[str, float]:
    """Metrics of the newest test run in ``work_dir`` (mmengine's ``<timestamp>/<timestamp>.json``)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    if not files:
        raise FileNotFoundError(f'no test results in {work_dir}')
    with open(files[-1]) as f:
        return json.load(f)


def machine_description() -> str:
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f'{os.cpu_count()}-core CPU'
    return f'{device} ({platform.machine()}), torch {torch.__version__}'


def fine_tune_and_test(stage: str, run_dir: str, config: str, init: Optional[str], iters: int, plan: Dict[str, Any],
                       extra: Sequence[str] = (), lane: Optional[Tuple[int, int]] = None) -> Dict[str, Any]:
    """tools/train.py on the recognizer config from ``init`` (None: scratch), then tools/test.py, in ``lane``."""
    ckpt = osp.join(run_dir, f'iter_{iters}.pth')
    run_stage(f'{stage} fine-tune', [sys.executable, 'tools/train.py', config, '--work-dir', run_dir,
                                     *schedule_options(iters, plan, [f'model.backbone.init_cfg.checkpoint={init}',
                                                                     f'train_cfg.val_interval={max(1, iters // 4)}',
                                                                     *extra], recognizer=True)],
              osp.join(run_dir, 'train.log'), ckpt, lane=lane)
    test_dir = osp.join(run_dir, 'test')
    run_stage(f'{stage} test', [sys.executable, 'tools/test.py', config, ckpt, '--work-dir', test_dir],
              osp.join(test_dir, 'test.log'), lane=lane)
    return dict(checkpoint=ckpt, config=config, metrics=read_test_metrics(test_dir))


def in_lanes(jobs: Dict[str, Callable[[Tuple[int, int]], Any]], lanes: int) -> Dict[str, Any]:
    """Run ``jobs`` (name -> function of the keyword ``lane=(index, lanes)``), ``lanes`` at a time, in order.

    Returns:
        Each job's result by name. A failed job raises once the running ones have ended (their outputs
        are reused by a re-run).
    """
    free: Queue = Queue()
    for index in range(lanes):
        free.put(index)

    def run(job: Callable[[Tuple[int, int]], Any]) -> Any:
        index = free.get()
        try:
            return job(lane=(index, lanes))
        finally:
            free.put(index)

    with ThreadPoolExecutor(lanes) as pool:
        futures = {name: pool.submit(run, job) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def metric_table(results: Dict[str, dict]) -> Dict[str, Dict[str, Dict[str, float]]]:
    """{set: {run: {metric: %}}} from the runs' test metrics (averages over sets left out)."""
    sets = [key.split('/')[0] for key in next(iter(results.values()))['metrics']
            if key.endswith(METRICS['WAICS']) and not key.startswith(('mean/', 'wmean/'))]
    return {set_name: {run: {m: round(100 * res['metrics'][f'{set_name}/{suffix}'], 2) for m, suffix in METRICS.items()}
                       for run, res in results.items()} for set_name in sets}


def format_table(table: Dict[str, Dict[str, Dict[str, float]]], run_width: int = 11) -> List[str]:
    header = f'{"set":<10} {"recognizer":<{run_width}} ' + ' '.join(f'{m:>9}' for m in METRICS)
    lines = ['', header, '-' * len(header)]
    for set_name, runs in table.items():
        lines += [f'{set_name:<10} {run:<{run_width}} ' + ' '.join(f'{v:9.2f}' for v in values.values())
                  for run, values in runs.items()]
    return lines


def format_probe(probe: Dict[str, Dict[str, Dict[str, float]]]) -> List[str]:
    header = f'\n{"linear CTC probe":<22} {"seed":>4} ' + ' '.join(f'{m:>13}' for m in PROBE_COLUMNS)
    lines = [header, '-' * len(header.strip())]
    lines += [f'{name:<22} {seed:>4} ' + ' '.join(f'{stats[m]:13.2f}' for m in PROBE_COLUMNS)
              for name, per_seed in probe.items() for seed, stats in per_seed.items()]
    return lines


def report(results: Dict[str, dict], token_stats: Dict[str, dict], work_dir: str, args: argparse.Namespace,
           plan: Dict[str, Any], seconds: float) -> None:
    """Print the pretrained-vs-scratch table and the token statistics; write results.json."""
    table = metric_table(results)
    lines = format_table(table)
    stat_names = ('cos_within', 'within_image_var', 'position_var', 'effective_rank')
    header = f'\n{"encoder (patch tokens)":<22} ' + ' '.join(f'{name:>16}' for name in stat_names)
    lines += [header, '-' * len(header.strip())]
    lines += [f'{name:<22} ' + ' '.join(f'{stats[key]:16.3f}' for key in stat_names)
              for name, stats in token_stats.items()]
    print('\n'.join(lines))
    out = dict(date=time.strftime('%Y-%m-%d %H:%M'), preset=args.preset, scale=args.scale, plan=plan,
               minutes=round(seconds / 60, 1), machine=machine_description(), table=table, token_stats=token_stats,
               runs=results)
    path = osp.join(work_dir, 'results.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=2)
    print(f'\n{len(table)} sets, {seconds / 60:.1f} min; table and metrics in {path}')


def checkpoints(work_dir: str, plan: Dict[str, Any]) -> Tuple[str, str]:
    """The MAE teacher's and the LMIM student's final checkpoints of the demo in ``work_dir``."""
    return (osp.join(work_dir, 'mae_teacher', f'iter_{plan["iters"]["mae"]}.pth'),
            osp.join(work_dir, 'lmim', f'iter_{plan["iters"]["lmim"]}.pth'))


def main() -> None:
    args = parse_args()
    start = time.time()
    plan = demo_plan(args.preset, args.scale)
    wd = osp.abspath(args.work_dir)
    os.makedirs(wd, exist_ok=True)
    print(f'lmim_mm demo ({args.preset} preset, scale {args.scale}): data {plan["sizes"]} at difficulty '
          f'{plan["difficulty"]}, iterations {plan["iters"]}, batch {plan["batch"]}, work dir {wd}')
    args.real_root = find_real_root(args.real_root)
    data_root = prepare_data(args, plan['sizes'], plan['difficulty'])
    if args.prepare_only:
        print(f'  recognizer config: {write_recognizer_config(wd, data_root, args, plan)}')
        return
    if args.compare:
        compare(args, plan, data_root, wd, start)
        return
    teacher, student = checkpoints(wd, plan)
    run_stage('1/5 MAE teacher', [sys.executable, 'tools/train.py', 'configs/demo/mae_teacher_tiny.py', '--work-dir',
                                  osp.dirname(teacher), *schedule_options(plan['iters']['mae'], plan,
                                                                          pretrain_data_options(data_root))],
              osp.join(osp.dirname(teacher), 'train.log'), teacher)
    run_stage('2/5 LMIM pretraining',
              [sys.executable, 'tools/train.py', 'configs/demo/lmim_tiny.py', '--work-dir', osp.dirname(student),
               *schedule_options(plan['iters']['lmim'], plan, [f'model.teacher_init_cfg.checkpoint={teacher}',
                                                              *pretrain_data_options(data_root)])],
              osp.join(osp.dirname(student), 'train.log'), student)

    recog_config = write_recognizer_config(wd, data_root, args, plan)
    results = in_lanes({name: partial(fine_tune_and_test, f'{stage} {name}', osp.join(wd, f'recognizer_{name}'),
                                      recog_config, init, plan['iters']['recog'], plan)
                        for stage, name, init in (('3/5', 'pretrained', student), ('4/5', 'scratch', None))},
                       plan['lanes'])
    encoders = {'random init': None, 'MAE teacher': teacher, 'LMIM student': student}
    token_stats = measure_token_stats(wd, recog_config, f'{data_root}/test', {
        **encoders, **{f'fine-tuned {name}': res['checkpoint'] for name, res in results.items()}})
    save_pictures(wd, osp.dirname(teacher), osp.dirname(student))
    report(results, token_stats, wd, args, plan, time.time() - start)


def compare(args: argparse.Namespace, plan: Dict[str, Any], data_root: str, wd: str, start: float) -> None:
    """Low-label fine-tuning from the demo's LMIM student and from scratch, two seeds each; the linear
    CTC probe on the frozen random, MAE-teacher and LMIM-student encoders, two seeds each."""
    teacher, student = checkpoints(wd, plan)
    for ckpt in (teacher, student):
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'{ckpt} not found: run `make demo` (same preset and scale) first')
    iters, labels = plan['iters']['low_label_recog'], plan['low_label']
    recog_config = write_recognizer_config(osp.join(wd, 'compare'), data_root, args, plan, low_label=labels)
    results = in_lanes({f'{name} s{seed}': partial(
        fine_tune_and_test, f'{labels} labels, {name} s{seed}', osp.join(wd, 'compare', f'{name}_seed{seed}'),
        recog_config, init, iters, plan, [f'randomness.seed={seed}'])
        for seed in SEEDS for name, init in (('pretrained', student), ('scratch', None))}, plan['lanes'])
    table = metric_table(results)
    summary = {set_name: {name: {m: [runs[f'{name} s{seed}'][m] for seed in SEEDS] for m in METRICS}
                          for name in ('pretrained', 'scratch')} for set_name, runs in table.items()}
    lines = format_table(table, run_width=13)
    lines.append(f'\nWAICS with {labels} labels, {iters} iterations: mean (seeds {", ".join(map(str, SEEDS))})')
    for set_name, per_run in summary.items():
        pre, scr = (per_run[name]['WAICS'] for name in ('pretrained', 'scratch'))
        lines.append(f'{set_name:<10} pretrained {sum(pre) / len(pre):6.2f} {pre}  scratch {sum(scr) / len(scr):6.2f} '
                     f'{scr}  gap {sum(pre) / len(pre) - sum(scr) / len(scr):+6.2f}')
    probe = measure_probe(wd, recog_config, data_root,
                          {'random init': None, 'MAE teacher': teacher, 'LMIM student': student}, plan)
    lines += format_probe(probe)
    print('\n'.join(lines))
    seconds = time.time() - start
    out = dict(date=time.strftime('%Y-%m-%d %H:%M'), preset=args.preset, scale=args.scale, plan=plan,
               minutes=round(seconds / 60, 1), machine=machine_description(), labels=labels, iterations=iters,
               table=table, summary=summary, probe=probe, runs=results)
    path = osp.join(wd, 'results_compare.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=2)
    print(f'\n{seconds / 60:.1f} min; table and metrics in {path}')


def measure_token_stats(work_dir: str, config: str, data: str, encoders: Dict[str, Optional[str]]) -> Dict[str, dict]:
    """tools/analysis_tools/token_stats.py on the encoders (name -> checkpoint, None = random init)."""
    out = osp.join(work_dir, 'token_stats.json')
    checkpoints = [ckpt for ckpt in encoders.values() if ckpt]
    run_stage('encoder token stats', [sys.executable, 'tools/analysis_tools/token_stats.py', config, *checkpoints,
                                      '--random', '--data', data, '--out', out], osp.join(work_dir, 'token_stats.log'))
    with open(out) as f:
        measured = json.load(f)
    return {name: measured[ckpt or 'random'] for name, ckpt in encoders.items()}


def measure_probe(work_dir: str, config: str, data_root: str, encoders: Dict[str, Optional[str]],
                  plan: Dict[str, Any]) -> Dict[str, Dict[str, Dict[str, float]]]:
    """tools/analysis_tools/probe_encoder.py: a linear CTC probe per encoder and seed, trained on
    labeled synthetic train words, measured on the synthetic test split."""
    out = osp.join(work_dir, 'probe.json')
    checkpoints = [ckpt for ckpt in encoders.values() if ckpt]
    run_stage('linear CTC probe', [sys.executable, 'tools/analysis_tools/probe_encoder.py', config, *checkpoints,
                                   '--random', '--data', f'{data_root}/train', '--test-data', f'{data_root}/test',
                                   '--num-train', str(plan['probe_train']), '--steps', str(plan['probe_steps']),
                                   '--seeds', *map(str, SEEDS), '--out', out], osp.join(work_dir, 'probe.log'))
    with open(out) as f:
        measured = json.load(f)
    return {name: measured[ckpt or 'random'] for name, ckpt in encoders.items()}


def newest(pattern: str) -> str:
    files = sorted(glob.glob(pattern), key=osp.getmtime)
    if not files:
        raise FileNotFoundError(f'no file matches {pattern}')
    return files[-1]


def save_pictures(work_dir: str, mae_dir: str, lmim_dir: str) -> None:
    """Collect the runs' pictures and draw the loss / accuracy curves into ``work_dir/pictures``."""
    import cv2

    from lmim_mm.apis.curves import plot_curves
    from lmim_mm.visualization import compose, save_rgb

    out = osp.join(work_dir, 'pictures')
    os.makedirs(out, exist_ok=True)
    runs = {'pretrained': osp.join(work_dir, 'recognizer_pretrained'),
            'scratch': osp.join(work_dir, 'recognizer_scratch')}
    copies = {'mae_reconstruction.png': osp.join(mae_dir, '*', 'vis_data', 'vis_image', '*.png'),
              'lmim_similarity.png': osp.join(lmim_dir, '*', 'vis_data', 'vis_image', '*.png')}
    for name, pattern in copies.items():
        shutil.copy(newest(pattern), osp.join(out, name))
    for name, run in runs.items():  # the first test words as the recognizer's visualizer drew them, 4 a row
        folder = newest(osp.join(run, 'test', '*', 'vis_data', 'vis_image'))
        cells = [cv2.imread(path)[..., ::-1] for path in sorted(glob.glob(osp.join(folder, 'test_sample_*.png')))]
        save_rgb(compose([cells[i:i + 4] for i in range(0, len(cells), 4)]), osp.join(out, f'samples_{name}.png'))
    plot_curves([mae_dir, lmim_dir], ['loss'], osp.join(out, 'curves_pretraining.png'), labels=['MAE teacher', 'LMIM'])
    plot_curves(list(runs.values()), ['loss', 'synthetic/recog/word_acc_ignore_case_symbol'],
                osp.join(out, 'curves_finetuning.png'), labels=list(runs))
    print(f'  pictures: {out}')


if __name__ == '__main__':
    main()
