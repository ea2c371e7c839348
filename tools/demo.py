"""The main job (`make demo`): LMIM pretraining shown end to end on this machine.

1. synthetic word images (labeled train/test + unlabeled) and the real IIIT5K/SVT *train* images,
   without their labels, as unlabeled data;
2. an MAE teacher (TextMAE) on the unlabeled images;
3. LMIM with that teacher;
4. the recognizer fine-tuned from the LMIM student, and the same recognizer from scratch with the same
   budget;
5. both evaluated on the synthetic test split and on real IIIT5K / SVT test images (or a folder given
   with --data): one table (WAICS, case-sensitive accuracy, 1-NED), also in
   work_dirs/demo/results.json;
6. how distinct the patch tokens of each encoder (random init, MAE teacher, LMIM student, the two
   fine-tuned ones) are on the synthetic test words (tools/analysis_tools/token_stats.py): a collapsed
   pretrained encoder explains a pretrained recognizer that starts worse than a random one.

Each stage runs the real tools (tools/train.py, tools/test.py) on the configs in configs/demo/.
DEMO_SCALE (env or --scale) multiplies data sizes and iterations, for a bigger run on a GPU.
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import re
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional

from tqdm import tqdm

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ITER_PATTERN = re.compile(r'Iter\((train|test)\)\s*\[\s*(\d+)/\s*(\d+)\]')
#: reported metric -> key suffix in the evaluator output
METRICS = {'WAICS': 'recog/word_acc_ignore_case_symbol', 'acc_case': 'recog/word_acc', '1-NED': 'recog/1-N.E.D'}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='lmim_mm demo: MAE teacher -> LMIM -> fine-tune vs scratch')
    parser.add_argument('--scale', type=float, default=float(os.environ.get('DEMO_SCALE', 1)),
                        help='multiplies data sizes and iterations (env DEMO_SCALE)')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo'))
    parser.add_argument('--data', default=os.environ.get('DATA') or None,
                        help='extra labeled test folder (IMG/ + label/), reported as "custom"')
    parser.add_argument('--real-root', default=osp.join(REPO, '..', 'shared', 'data', 'real_benchmarks'),
                        help='folder with iiit5k_train/test and svt_train/test (IMG/ + label/)')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='rendering processes')
    return parser.parse_args()


def run_stage(name: str, cmd: List[str], log_path: str) -> None:
    """Run a tool, log its output to ``log_path`` and show its iterations as a progress bar."""
    mode = 'test' if 'tools/test.py' in cmd else 'train'
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    bar = tqdm(desc=f'{name:<24}', unit='it', dynamic_ncols=True)
    start = time.time()
    with open(log_path, 'w') as log, subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                      text=True, bufsize=1) as proc:
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


def prepare_data(args: argparse.Namespace, sizes: Dict[str, int]) -> str:
    """Synthetic LMDBs + the real train images as an unlabeled LMDB (reused when already made)."""
    from lmim_mm.datasets.folder_dataset import list_folder_samples
    from lmim_mm.datasets.lmdb_utils import files_to_lmdb
    from lmim_mm.datasets.synthetic import make_synthetic

    data_root = osp.join(args.work_dir, 'data')
    stamp = osp.join(data_root, '.done_' + '_'.join(f'{k}{v}' for k, v in sorted(sizes.items())))
    if osp.exists(stamp):
        print(f'  data: reusing {data_root}')
        return data_root
    if osp.isdir(data_root):  # made for other sizes (or interrupted): start again
        shutil.rmtree(data_root)
    start = time.time()
    make_synthetic(data_root, sizes, seed=0, workers=args.workers)
    real = [(path, None) for split in ('iiit5k_train', 'svt_train')
            for path, _ in list_folder_samples(osp.join(args.real_root, split))]
    files_to_lmdb(real, osp.join(data_root, 'real_unlabeled'), progress=True)
    open(stamp, 'w').close()
    print(f'  data: {sizes} synthetic + {len(real)} real unlabeled images in {time.time() - start:.0f} s')
    return data_root


def schedule_options(iters: int, extra: Optional[List[str]] = None) -> List[str]:
    """``--cfg-options`` that set an iteration budget (loop, warm-up, cosine, checkpoint)."""
    warmup = max(1, min(50, iters // 10))
    return ['--cfg-options', f'train_cfg.max_iters={iters}', f'param_scheduler.0.end={warmup}',
            f'param_scheduler.1.begin={warmup}', f'param_scheduler.1.end={iters}',
            f'default_hooks.logger.interval={max(1, min(25, iters // 10))}',
            f'default_hooks.checkpoint.interval={iters}', *(extra or [])]


def pretrain_data_options(data_root: str) -> List[str]:
    return [f'train_dataloader.dataset.data_root=[{data_root}/unlabeled,{data_root}/real_unlabeled]']


def write_recognizer_config(work_dir: str, data_root: str, args: argparse.Namespace) -> str:
    """``work_dir/recognizer.py``: configs/demo/recognizer_tiny.py with this run's data.

    Test sets: the synthetic test split, then IIIT5K and SVT test (or the ``--data`` folder alone).
    """
    real = [('custom', osp.abspath(args.data))] if args.data else [
        ('IIIT5K', osp.join(args.real_root, 'iiit5k_test')), ('SVT', osp.join(args.real_root, 'svt_test'))]
    for name, folder in real:
        if not osp.isdir(folder):
            raise FileNotFoundError(f'test folder for {name} not found: {folder} (expected IMG/ + label/)')
    sets = [dict(type='LabeledLMDBDataset', data_root=f'{data_root}/test', test_mode=True, pipeline=None)]
    sets += [dict(type='RecogFolderDataset', data_root=folder, test_mode=True, pipeline=None) for _, folder in real]
    text = f"""# Written by tools/demo.py: the demo recognizer with this run's data.
_base_ = [{osp.join(REPO, 'configs', 'demo', 'recognizer_tiny.py')!r}]
train_dataloader = dict(dataset=dict(data_root={data_root + '/train'!r}))
val_dataloader = dict(dataset=dict(datasets=[{sets[0]!r}]))
test_dataloader = dict(dataset=dict(datasets={sets!r}))
test_evaluator = dict(dataset_prefixes={['synthetic'] + [name for name, _ in real]!r})
"""
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


def report(results: Dict[str, dict], token_stats: Dict[str, dict], work_dir: str, scale: float,
           seconds: float) -> None:
    """Print the pretrained-vs-scratch table and the encoders' token statistics; write results.json."""
    sets = [key.split('/')[0] for key in next(iter(results.values()))['metrics']
            if key.endswith(METRICS['WAICS']) and not key.startswith(('mean/', 'wmean/'))]
    header = f'{"set":<10} {"recognizer":<11} ' + ' '.join(f'{m:>9}' for m in METRICS)
    lines = ['', header, '-' * len(header)]
    table: Dict[str, Dict[str, Dict[str, float]]] = {}
    for set_name in sets:
        for model, res in results.items():
            values = {m: round(100 * res['metrics'][f'{set_name}/{suffix}'], 2) for m, suffix in METRICS.items()}
            table.setdefault(set_name, {})[model] = values
            lines.append(f'{set_name:<10} {model:<11} ' + ' '.join(f'{v:9.2f}' for v in values.values()))
    stat_names = ('cos_within', 'within_image_var', 'position_var', 'effective_rank')
    header = f'\n{"encoder (patch tokens)":<22} ' + ' '.join(f'{name:>16}' for name in stat_names)
    lines += [header, '-' * len(header.strip())]
    lines += [f'{name:<22} ' + ' '.join(f'{stats[key]:16.3f}' for key in stat_names) for name, stats in token_stats.items()]
    print('\n'.join(lines))
    out = dict(date=time.strftime('%Y-%m-%d %H:%M'), scale=scale, minutes=round(seconds / 60, 1),
               machine=machine_description(), table=table, token_stats=token_stats, runs=results)
    path = osp.join(work_dir, 'results.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=2)
    print(f'\n{len(sets)} sets, {seconds / 60:.1f} min; table and metrics in {path}')


def main() -> None:
    args = parse_args()
    start = time.time()
    scale, py, wd = args.scale, sys.executable, osp.abspath(args.work_dir)
    sizes = dict(train=int(6000 * scale), test=int(1000 * min(scale, 2)), unlabeled=int(6000 * scale))
    iters = dict(mae=max(1, int(600 * scale)), lmim=max(1, int(400 * scale)), recog=max(1, int(1200 * scale)))
    os.makedirs(wd, exist_ok=True)
    print(f'lmim_mm demo (scale {scale}): data {sizes}, iterations {iters}, work dir {wd}')
    data_root = prepare_data(args, sizes)

    mae_dir, lmim_dir = osp.join(wd, 'mae_teacher'), osp.join(wd, 'lmim')
    run_stage('1/5 MAE teacher', [py, 'tools/train.py', 'configs/demo/mae_teacher_tiny.py', '--work-dir', mae_dir,
                                  *schedule_options(iters['mae'], pretrain_data_options(data_root))],
              osp.join(mae_dir, 'train.log'))
    teacher = osp.join(mae_dir, f'iter_{iters["mae"]}.pth')
    run_stage('2/5 LMIM pretraining',
              [py, 'tools/train.py', 'configs/demo/lmim_tiny.py', '--work-dir', lmim_dir,
               *schedule_options(iters['lmim'], [f'model.teacher_checkpoint={teacher}',
                                                 *pretrain_data_options(data_root)])],
              osp.join(lmim_dir, 'train.log'))
    student = osp.join(lmim_dir, f'iter_{iters["lmim"]}.pth')

    recog_config = write_recognizer_config(wd, data_root, args)
    results = {}
    for stage, name, init in (('3/5', 'pretrained', student), ('4/5', 'scratch', None)):
        run_dir = osp.join(wd, f'recognizer_{name}')
        run_stage(f'{stage} fine-tune {name}',
                  [py, 'tools/train.py', recog_config, '--work-dir', run_dir,
                   *schedule_options(iters['recog'], [f'model.backbone.init_cfg.checkpoint={init}',
                                                      f'train_cfg.val_interval={max(1, iters["recog"] // 4)}'])],
                  osp.join(run_dir, 'train.log'))
        ckpt = osp.join(run_dir, f'iter_{iters["recog"]}.pth')
        test_dir = osp.join(run_dir, 'test')
        run_stage(f'5/5 test {name}', [py, 'tools/test.py', recog_config, ckpt, '--work-dir', test_dir],
                  osp.join(test_dir, 'test.log'))
        results[name] = dict(checkpoint=ckpt, config=recog_config, metrics=read_test_metrics(test_dir))
    encoders = {'random init': None, 'MAE teacher': teacher, 'LMIM student': student,
                **{f'fine-tuned {name}': res['checkpoint'] for name, res in results.items()}}
    token_stats = measure_token_stats(wd, recog_config, f'{data_root}/test', encoders)
    save_pictures(wd, mae_dir, lmim_dir)
    report(results, token_stats, wd, scale, time.time() - start)


def measure_token_stats(work_dir: str, config: str, data: str, encoders: Dict[str, Optional[str]]) -> Dict[str, dict]:
    """tools/analysis_tools/token_stats.py on the encoders (name -> checkpoint, None = random init)."""
    out = osp.join(work_dir, 'token_stats.json')
    checkpoints = [ckpt for ckpt in encoders.values() if ckpt]
    run_stage('encoder token stats', [sys.executable, 'tools/analysis_tools/token_stats.py', config, *checkpoints, '--random',
                                      '--data', data, '--out', out], osp.join(work_dir, 'token_stats.log'))
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
    from lmim_mm.visualization.curves import plot_curves

    out = osp.join(work_dir, 'pictures')
    os.makedirs(out, exist_ok=True)
    runs = {'pretrained': osp.join(work_dir, 'recognizer_pretrained'),
            'scratch': osp.join(work_dir, 'recognizer_scratch')}
    copies = {'mae_reconstruction.png': osp.join(mae_dir, 'vis', '*.png'),
              'lmim_similarity.png': osp.join(lmim_dir, 'vis', '*.png'),
              **{f'samples_{name}.png': osp.join(run, 'test', 'vis', 'samples_test*.png') for name, run in runs.items()}}
    for name, pattern in copies.items():
        shutil.copy(newest(pattern), osp.join(out, name))
    plot_curves([mae_dir, lmim_dir], ['loss'], osp.join(out, 'curves_pretraining.png'), labels=['MAE teacher', 'LMIM'])
    plot_curves(list(runs.values()), ['loss', 'synthetic/recog/word_acc_ignore_case_symbol'],
                osp.join(out, 'curves_finetuning.png'), labels=list(runs))
    print(f'  pictures: {out}')


if __name__ == '__main__':
    main()
