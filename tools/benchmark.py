"""Measure lmim_mm's speed against re-creations of the authors' computation.

Usage::

    OMP_NUM_THREADS=2 python tools/benchmark.py --threads 2 > bench.jsonl
    python tools/benchmark.py --quick --only recognize --only mask_gen
    python tools/benchmark.py --device cuda --dtype bf16

Prints one JSON line per result with ``name``, ``case``, ``ours``, ``reference``, ``ratio``
(speed-up of ours, > 1 = faster), ``unit``, ``device``, ``dtype``, ``batch``, ``peak_mem_mb`` and
further fields (``machine``, ``threads``, ``repeats``, parity checks such as ``loss_abs_diff`` and
``identical_predictions``). Measurements: ``pretrain_step``, ``mae_step``, ``mms_step``,
``recognize``, ``data_two_view``, ``mask_gen``; the protocol is described in
:mod:`benchmarks.harness`. ``--only deploy_recognize`` (not part of the default run) measures
the ONNX export on onnxruntime against PyTorch eager, with PP-OCRv4 for context
(:mod:`benchmarks.deploy_recognize`). Progress goes to stderr.
"""
import argparse
import sys
import time
from pathlib import Path
from typing import Iterable

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmarks/ and tests/reference/ live at the repository root

from benchmarks.harness import (FULL_CPU, FULL_CUDA, MEASUREMENTS, QUICK, BenchmarkSettings,  # noqa: E402
                                Measurement, run_benchmarks)
DATA_ROOT = REPO / '..' / 'shared' / 'data' / 'real_benchmarks'
#: Measurements of ``benchmarks/`` run only when named with ``--only``.
EXTRA_MEASUREMENTS = ('deploy_recognize', )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='tiny models and 2 repeats (smoke test)')
    parser.add_argument('--only', action='append', choices=MEASUREMENTS + EXTRA_MEASUREMENTS, metavar='NAME',
                        help=f'run only this measurement (repeatable): {", ".join(MEASUREMENTS + EXTRA_MEASUREMENTS)}')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--dtype', choices=('fp32', 'bf16'), default='fp32', help='bf16: autocast')
    parser.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch\'s)')
    parser.add_argument('--repeats', type=int, default=None, help='timed rounds (default 5, quick 2)')
    parser.add_argument('--data-root', type=Path, default=DATA_ROOT,
                        help='real_benchmarks folder with iiit5k_test/IMG and iiit5k_train/IMG')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    sizes = QUICK if args.quick else (FULL_CUDA if args.device == 'cuda' else FULL_CPU)
    repeats = args.repeats or (2 if args.quick else 5)
    settings = BenchmarkSettings(device=args.device, dtype=args.dtype, sizes=sizes, repeats=repeats,
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
