"""Recipe sweep of the demo recognizer on real validation words.

The demo's data is made with ``tools/demo.py --holdout --prepare-only``: every 10th word of the real
train splits (IIIT5K, SVT, IC15 train) is held out as validation and never trains; the real test splits
are not used. Each variant is the demo's recognizer config (``configs/demo/recognizer_tiny.py`` with that
data) plus a few settings, fine-tuned from scratch with ``tools/train.py`` and scored on the held-out words
with ``tools/test.py``; two variants run side by side, one thread each. One JSON line per variant::

    python benchmarks/demo_real_sweep.py work_dirs/sweep > sweep.jsonl
    python benchmarks/demo_real_sweep.py work_dirs/sweep --only base --only aug
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Variant name -> (config lines added to the demo's recognizer config, what it changes).
TRAIN_SETS = '_base_.train_dataloader.dataset.datasets'
VARIANTS: Dict[str, tuple] = {
    'rendered_only': (f'train_dataloader = dict(dataset=dict(datasets=[{TRAIN_SETS}[0]]))',
                      'rendered words only (no real labels)'),
    'base': ('', 'rendered + real words, real share 0.5'),
    'real_0.75': (f'train_dataloader = dict(dataset=dict(datasets=[{TRAIN_SETS}[0], '
                  f'dict({TRAIN_SETS}[1], times={TRAIN_SETS}[1].times * 3)]))', 'real share 0.75'),
    'aug': (f'train_dataloader = dict(dataset=dict(datasets=[{TRAIN_SETS}[0], dict({TRAIN_SETS}[1], '
            f'dataset=dict({TRAIN_SETS}[1].dataset, pipeline=_base_.recog_train_pipeline))]))',
            "mmocr's ABINet augmentation on the real words"),
    'no_ctc': ('model = dict(aux_decoder=None)', 'no auxiliary CTC decoder'),
    'smooth_0.1': ('model = dict(decoder=dict(module_loss=dict(label_smoothing=0.1)))', 'label smoothing 0.1'),
    'ema': ("custom_hooks = [*_base_.custom_hooks, dict(type='EMAHook', momentum=0.001)]",
            'weight averaging (EMA, momentum 0.001)'),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--iters', type=int, default=4000, help="fine-tuning iterations per variant (the demo's 4000)")
    parser.add_argument('--only', action='append', choices=list(VARIANTS), help='run only these (repeatable)')
    parser.add_argument('--lanes', type=int, default=2, help='variants run side by side')
    parser.add_argument('--real-root', default=None, help="passed to tools/demo.py (default: the demo's)")
    return parser.parse_args()


def run(cmd: List[str], log: str, threads: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(log, 'w') as f:
        code = subprocess.call(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT, env=env)
    if code:
        raise RuntimeError(f'{" ".join(cmd)} failed (exit {code}); log {log}')


def run_variant(name: str, base_config: str, args: argparse.Namespace, threads: int) -> dict:
    """Fine-tune variant ``name`` from scratch and score it on the held-out words."""
    out = osp.join(args.work_dir, name)
    os.makedirs(out, exist_ok=True)
    config = osp.join(out, 'config.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{base_config!r}]\n{VARIANTS[name][0]}\n')
    warmup = args.iters // 8
    start = time.time()
    run([sys.executable, 'tools/train.py', config, '--work-dir', out, '--cfg-options',
         f'train_cfg.max_iters={args.iters}', f'train_cfg.val_interval={args.iters + 1}',
         f'param_scheduler.0.end={warmup}',
         f'param_scheduler.1.begin={warmup}', f'param_scheduler.1.end={args.iters}',
         f'default_hooks.checkpoint.interval={args.iters}'], osp.join(out, 'train.log'), threads)
    train_s = time.time() - start
    test_dir = osp.join(out, 'test')
    run([sys.executable, 'tools/test.py', config, osp.join(out, f'iter_{args.iters}.pth'), '--work-dir', test_dir],
        osp.join(out, 'test.log'), threads)
    with open(sorted(glob.glob(osp.join(test_dir, '*', '*.json')))[-1]) as f:
        metrics = json.load(f)
    return dict(name=name, what=VARIANTS[name][1], iters=args.iters, train_s=round(train_s),
                **{key: round(100 * metrics[f'{prefix}/recog/{metric}'], 2)
                   for key, prefix, metric in (('val_WAICS', 'val', 'word_acc_ignore_case_symbol'),
                                               ('val_acc_case', 'val', 'word_acc'), ('val_1-NED', 'val', '1-N.E.D'),
                                               ('synthetic_WAICS', 'synthetic', 'word_acc_ignore_case_symbol'))})


def main() -> None:
    args = parse_args()
    args.work_dir = osp.abspath(args.work_dir)
    prepare = [sys.executable, 'tools/demo.py', '--holdout', '--prepare-only', '--work-dir', args.work_dir]
    subprocess.check_call(prepare + (['--real-root', args.real_root] if args.real_root else []), cwd=REPO,
                          stdout=sys.stderr)
    base_config = osp.join(args.work_dir, 'recognizer.py')
    threads = max(1, (os.cpu_count() or 1) // args.lanes)
    with ThreadPoolExecutor(args.lanes) as pool:
        futures = [pool.submit(run_variant, name, base_config, args, threads) for name in args.only or VARIANTS]
        for name, future in zip(args.only or VARIANTS, futures):
            try:
                print(json.dumps(future.result()), flush=True)
            except RuntimeError as e:
                print(json.dumps(dict(name=name, error=str(e))), flush=True)


if __name__ == '__main__':
    main()
