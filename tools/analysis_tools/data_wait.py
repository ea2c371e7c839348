"""How long training steps waited for data, from an mmengine run's logged scalars.

Usage::

    python tools/analysis_tools/data_wait.py WORK_DIR [--name NAME] [--batch 64]

Reads every ``WORK_DIR/*/vis_data/scalars.json`` (mmengine's ``LocalVisBackend``): each training line holds
``time`` (seconds per iteration) and ``data_time`` (of which waiting for the dataloader), both averaged over the
log processor's window. Prints one JSON line: ``name``, ``logged`` (training lines), ``last_iter``, the mean
``time_s`` and ``data_time_s``, ``data_wait_share`` (mean data_time / mean time) and the same without the first
logged window (``data_wait_share_after_first``, the workers' start-up left out), and ``images_per_s`` with
``--batch``.
"""
import argparse
import json
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', type=Path, help="a run's work dir (holds <timestamp>/vis_data/scalars.json)")
    parser.add_argument('--name', default=None, help='name of the run in the output (default: the folder name)')
    parser.add_argument('--batch', type=int, default=None, help='samples per iteration, for images_per_s')
    return parser.parse_args(argv)


def training_lines(work_dir: Path) -> List[Dict[str, Any]]:
    """The logged training lines (with ``time`` and ``data_time``) of every ``scalars.json`` under ``work_dir``.

    Raises:
        FileNotFoundError: no ``*/vis_data/scalars.json`` under ``work_dir``.
    """
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not files:
        raise FileNotFoundError(f'{work_dir}: no */vis_data/scalars.json (did the run log any iteration?)')
    lines = [json.loads(line) for path in files for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if 'time' in line and 'data_time' in line]


def data_wait(lines: List[Dict[str, Any]], batch: Optional[int] = None) -> Dict[str, Any]:
    """Mean ``time`` / ``data_time`` of training lines and the data-wait share (see the module docstring).

    Raises:
        ValueError: no training line.
    """
    if not lines:
        raise ValueError('no logged training iteration (lines with time and data_time)')
    time_s = statistics.fmean(line['time'] for line in lines)
    data_s = statistics.fmean(line['data_time'] for line in lines)
    later = lines[1:] or lines
    out = dict(logged=len(lines), last_iter=lines[-1].get('iter'), time_s=time_s, data_time_s=data_s,
               data_wait_share=data_s / time_s,
               data_wait_share_after_first=statistics.fmean(x['data_time'] for x in later)
               / statistics.fmean(x['time'] for x in later))
    if batch:
        out['images_per_s'] = batch / time_s
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    result = dict(name=args.name or args.work_dir.name, **data_wait(training_lines(args.work_dir), args.batch))
    print(json.dumps({k: float(f'{v:.4g}') if isinstance(v, float) else v for k, v in result.items()}))
    return result


if __name__ == '__main__':
    main()
