"""Training / validation curves from mmengine's ``LocalVisBackend`` logs: ``<work_dir>/<timestamp>/vis_data/
scalars.json``, one JSON object per line; training lines carry ``iter`` (plus ``loss``, ``lr``, ... and ``epoch`` for
epoch-based logging), validation / test lines their metrics (e.g. ``IIIT5K/recog/word_acc_ignore_case_symbol``) and
``step``: the epoch (``LoggerHook(log_metric_by_epoch=True)``, mmengine's default) or the iteration."""
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from matplotlib.figure import Figure

PathLike = Union[str, Path]


def find_scalars(work_dir: PathLike) -> Path:
    """The newest ``<timestamp>/vis_data/scalars.json`` of a work dir (timestamps sort by name in time order), or
    ``work_dir`` if it is a file; else a ``FileNotFoundError`` naming the work dir."""
    path = Path(work_dir)
    if path.is_file():
        return path
    found = sorted(path.glob('*/vis_data/scalars.json'))
    if not found:
        state = 'has no <timestamp>/vis_data/scalars.json' if path.is_dir() else 'does not exist'
        raise FileNotFoundError(f'work dir {path} {state} (runs log there with vis_backends='
                                f"[dict(type='LocalVisBackend')])")
    return found[-1]


def read_scalars(work_dir: PathLike) -> List[dict]:
    """The records of a run's newest ``scalars.json`` (:func:`find_scalars`), in file order; a line that is not a
    JSON object raises a ``ValueError`` naming the file and line."""
    path = find_scalars(work_dir)
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}:{number}: not valid JSON ({e.msg})') from e
        if not isinstance(record, dict):
            raise ValueError(f'{path}:{number}: expected a JSON object, got {type(record).__name__}')
        records.append(record)
    return records


def key_series(records: Sequence[dict], key: str) -> Tuple[np.ndarray, np.ndarray, str]:
    """The values of ``key`` in the ``records`` of one run (:func:`read_scalars`): x (K,), y (K,) float arrays and the
    x-axis label (``'iteration'``, or ``'epoch'`` when the run logged epochs with its training values). Training values
    (with ``iter``) are placed at their iteration, validation values at their ``step``; a non-number raises."""
    rows = [r for r in records if key in r]
    for r in rows:
        if isinstance(r[key], bool) or not isinstance(r[key], (int, float)):
            raise ValueError(f'{key!r} is not a number in the record {r}')
    x = np.array([r['iter'] if 'iter' in r else r['step'] for r in rows], dtype=np.float64)
    y = np.array([r[key] for r in rows], dtype=np.float64)
    by_epoch = any('iter' not in r for r in rows) and any('epoch' in r for r in records if 'iter' in r)
    return x, y, 'epoch' if by_epoch else 'iteration'


def plot_curves(work_dirs: Sequence[PathLike], keys: Sequence[str], out: PathLike,
                labels: Optional[Sequence[str]] = None) -> Path:
    """Plot each key in its own panel, one line per run, save the figure to ``out`` (``.png``, ``.pdf``, ``.svg``) and
    return its path.

    Args:
        work_dirs: mmengine work dirs (or ``scalars.json`` files) of the runs to compare.
        keys: Scalar names, e.g. ``'loss'``, ``'IIIT5K/recog/word_acc_ignore_case_symbol'``.
        labels: Legend names of the runs; defaults to the work dir names.

    Raises:
        ValueError: ``labels`` do not match ``work_dirs``, or no keys / runs are given.
        KeyError: a key that no run logged, listing the keys each run has.
    """
    if not work_dirs or not keys:
        raise ValueError(f'plot_curves needs work dirs and keys, got {list(work_dirs)} and {list(keys)}')
    labels = list(labels) if labels is not None else [Path(w).name for w in work_dirs]
    if len(labels) != len(work_dirs):
        raise ValueError(f'{len(labels)} labels for {len(work_dirs)} work dirs')
    runs: Dict[str, List[dict]] = {label: read_scalars(w) for label, w in zip(labels, work_dirs)}
    for key in keys:
        if not any(key in r for records in runs.values() for r in records):
            available = {label: sorted({k for r in records for k in r}) for label, records in runs.items()}
            raise KeyError(f'no run logged {key!r}; keys per run: {available}')
    fig = Figure(figsize=(7.0, 2.6 * len(keys)), layout='constrained')
    for ax, key in zip(fig.subplots(len(keys), 1, squeeze=False)[:, 0], keys):
        xlabels = set()
        for label, records in runs.items():
            x, y, xlabel = key_series(records, key)
            if len(x):
                ax.plot(x, y, marker='o' if len(x) <= 50 else None, markersize=3, label=label)
                xlabels.add(xlabel)
        ax.set_xlabel(' / '.join(sorted(xlabels)))
        ax.set_title(key, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    return out
