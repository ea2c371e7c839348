"""Measure lmim_mm's speed against re-creations of the authors' computation.

Usage (from the repository root)::

    OMP_NUM_THREADS=2 python -m benchmarks --threads 2 > bench.jsonl
    python -m benchmarks --quick --only recognize --only mask_gen
    python -m benchmarks --device cuda --dtype bf16
    python -m benchmarks --pipeline --device cuda [--dtype fp16] [--compile] > gpu.jsonl
    python -m benchmarks --pipeline --device cpu --quick

Prints one JSON line per result with ``name``, ``case``, ``ours``, ``reference``, ``ratio``
(speed-up of ours, > 1 = faster), ``unit``, ``device``, ``dtype``, ``batch``, ``peak_mem_mb`` and
further fields (``machine``, ``threads``, ``repeats``, parity checks such as ``loss_abs_diff`` and
``identical_predictions``). Measurements: ``pretrain_step``, ``mae_step``, ``mms_step``,
``recognize``, ``data_two_view``, ``mask_gen``; the protocol is described in
:mod:`benchmarks.harness`. ``--only deploy_recognize`` (not part of the default run) measures
the ONNX export on onnxruntime against PyTorch eager, with PP-OCRv4 for context
(:mod:`benchmarks.deploy_recognize`). ``--pipeline`` measures the real configs' models through mmengine's
training step and ``AmpOptimWrapper`` instead (``lmim_train``, ``mae_train``, ``recognizer_train``,
``recognize``, ``data_workers``; lines with ``name``, ``device``, ``batch``, ``dtype``, ``images_per_s``,
``peak_mem_gib``, ``mfu``, ``ratio``): :mod:`benchmarks.pipeline`. Progress goes to stderr.
"""
import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import torch

from benchmarks import pipeline
from benchmarks.harness import FULL_CPU, FULL_CUDA, MEASUREMENTS, QUICK, BenchmarkSettings, Measurement, run_benchmarks

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO / '..' / 'shared' / 'data' / 'real_benchmarks'
#: Measurements of ``benchmarks/`` run only when named with ``--only``.
EXTRA_MEASUREMENTS = ('deploy_recognize', )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='tiny models and 2 repeats (smoke test)')
    choices = MEASUREMENTS + EXTRA_MEASUREMENTS + pipeline.MEASUREMENTS
    parser.add_argument('--only', action='append', choices=choices, metavar='NAME',
                        help=f'run only this measurement (repeatable): {", ".join(choices)}')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--dtype', choices=('fp32', 'bf16', 'fp16'), default=None,
                        help='bf16 / fp16: autocast (default fp32; --pipeline: bf16; fp16 only with --pipeline)')
    parser.add_argument('--pipeline', action='store_true',
                        help='the real configs through mmengine\'s train_step (benchmarks/pipeline.py)')
    parser.add_argument('--compile', action='store_true', help='--pipeline: torch.compile the models')
    parser.add_argument('--batches', type=int, nargs='+', default=None,
                        help='--pipeline: pretraining batches (default 64 128 256)')
    parser.add_argument('--workers', type=int, nargs='+', default=None,
                        help='--pipeline: dataloader workers of data_workers (default 1 2 4 ... cores)')
    parser.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch\'s)')
    parser.add_argument('--repeats', type=int, default=None, help='timed rounds (default 5, quick 2)')
    parser.add_argument('--data-root', type=Path, default=DATA_ROOT,
                        help='real_benchmarks folder with iiit5k_test/IMG and iiit5k_train/IMG')
    return parser.parse_args()


def run_pipeline(args: argparse.Namespace) -> int:
    """``--pipeline``: :func:`benchmarks.pipeline.run_pipeline` with the command line's settings."""
    base = pipeline.QUICK_PIPELINE if args.quick else pipeline.PipelineSettings()
    cores = os.cpu_count() or 1
    workers = args.workers or (base.workers if args.quick else
                               tuple(sorted({n for n in (1, 2, 4, 8, 16, 32, cores) if n <= cores})))
    settings = replace(base, device=args.device, dtype=args.dtype or 'bf16', compile=args.compile,
                       batches=tuple(args.batches or base.batches), workers=workers,
                       repeats=args.repeats or base.repeats)
    names = args.only or pipeline.MEASUREMENTS
    start = time.perf_counter()
    sys.stdout.flush()  # stdout keeps the JSON lines only: mmengine's log lines (stdout) go to stderr
    results = os.fdopen(os.dup(sys.stdout.fileno()), 'w')
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for line in pipeline.run_pipeline(settings, names):
        print(json.dumps(line), file=results, flush=True)
        print(f'[{time.perf_counter() - start:7.1f} s] {line["name"]} batch {line["batch"]} done', file=sys.stderr,
              flush=True)
    return 0


def main() -> int:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.pipeline:
        return run_pipeline(args)
    if args.dtype == 'fp16' or args.compile:
        raise SystemExit('--dtype fp16 and --compile need --pipeline')
    sizes = QUICK if args.quick else (FULL_CUDA if args.device == 'cuda' else FULL_CPU)
    repeats = args.repeats or (2 if args.quick else 5)
    settings = BenchmarkSettings(device=args.device, dtype=args.dtype or 'fp32', sizes=sizes, repeats=repeats,
                                 data_root=args.data_root.resolve())
    start = time.perf_counter()

    def emit(results: Iterable[Measurement]) -> None:
        for result in results:
            print(result.to_json(), flush=True)
            print(f'[{time.perf_counter() - start:7.1f} s] {result.name} {result.case or ""} done', file=sys.stderr,
                  flush=True)

    names = args.only or MEASUREMENTS
    emit(run_benchmarks(settings, [n for n in names if n in MEASUREMENTS]))
    if 'deploy_recognize' in names:
        from benchmarks.deploy_recognize import measure_deploy_recognize

        emit(measure_deploy_recognize(settings))
    return 0


if __name__ == '__main__':
    sys.exit(main())
