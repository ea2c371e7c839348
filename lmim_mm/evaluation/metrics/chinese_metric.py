"""Sentence accuracy and 1-NED of Chinese text recognition, as the FudanVI benchmark
(``FudanVI/benchmarking-chinese-text-recognition``) computes them; it publishes, per model and test set, its
predictions as ``<index> [<prediction>] [<ground truth>]`` lines (:func:`read_predictions`) and ACC / NED."""
import unicodedata
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmocr.registry import METRICS
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

#: Full-width forms U+FF01-U+FF5E and the ideographic space U+3000 -> their ASCII counterparts.
HALFWIDTH_TABLE = {0x3000: 0x20, **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}}


def normalize_chinese(text: str, nfkc: bool = False) -> str:
    """The FudanVI benchmark's normalisation of a prediction or a label: full width -> half width
    (:data:`HALFWIDTH_TABLE`), traditional -> simplified Chinese (``zhconv.convert(text, 'zh-cn')``), lower case,
    every whitespace character deleted; ``nfkc`` applies Unicode NFKC first (not part of the benchmark)."""
    import zhconv  # the converter the FudanVI benchmark code uses
    if nfkc:
        text = unicodedata.normalize('NFKC', text)
    text = zhconv.convert(text.translate(HALFWIDTH_TABLE), 'zh-cn').lower()
    return ''.join(text.split())


def chinese_scores(preds: Sequence[str], gts: Sequence[str], nfkc: bool = False) -> Dict[str, float]:
    """``sentence_acc`` and ``1-N.E.D`` (1 - mean of ``edit_distance / max(len(pred), len(gt))``) in [0, 1] (0 for
    no pairs), rounded to 4 decimals, of predictions and labels normalised by :func:`normalize_chinese`."""
    if len(preds) != len(gts):
        raise ValueError(f'{len(preds)} predictions but {len(gts)} labels')
    if not gts:
        return {'sentence_acc': 0.0, '1-N.E.D': 0.0}
    normalized = {text: normalize_chinese(text, nfkc) for text in set(preds) | set(gts)}
    preds = [normalized[text] for text in preds]
    gts = [normalized[text] for text in gts]
    accuracy = float(np.mean([p == g for p, g in zip(preds, gts)]))
    ned = float(cpdist(preds, gts, scorer=Levenshtein.normalized_distance).mean())
    return {'sentence_acc': round(accuracy, 4), '1-N.E.D': round(1.0 - ned, 4)}


def parse_prediction_line(line: str, where: str = '<line>') -> Tuple[int, str, str]:
    """``(index, prediction, ground truth)`` of a FudanVI prediction line ``<index> [<prediction>] [<ground truth>]``
    (``where``: ``file:line`` for errors). The strings may hold spaces and brackets: the rest of the line after the
    index and a space must be ``[`` ... ``]``, split at the one ``] [`` inside it (more than one is an error)."""
    line = line.rstrip('\r\n')
    index, _, rest = line.partition(' ')
    if not (index.isdigit() and len(rest) >= 5 and rest[0] == '[' and rest[-1] == ']'):
        raise ValueError(f'{where}: expected "<index> [<prediction>] [<ground truth>]", got {line!r}')
    parts = rest[1:-1].split('] [')
    if len(parts) != 2:
        raise ValueError(f'{where}: "] [" occurs {len(parts) - 1} times in {line!r}; cannot tell where the '
                         'prediction ends')
    return int(index), parts[0], parts[1]


def read_predictions(path: Union[str, Path]) -> Tuple[List[str], List[str]]:
    """Predictions and ground truths of a FudanVI prediction file (see :func:`parse_prediction_line`).

    Raises:
        ValueError: A malformed line (named by file and line number) or indices that are not 0, 1, 2, ... in order.
    """
    preds, gts = [], []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f):
            index, pred, gt = parse_prediction_line(line, f'{path}:{number + 1}')
            if index != number:
                raise ValueError(f'{path}:{number + 1}: index {index}, expected {number}')
            preds.append(pred)
            gts.append(gt)
    return preds, gts


@METRICS.register_module()
class ChineseRecogMetric(BaseMetric):
    """Chinese text recognition: :func:`chinese_scores`, whose normalisation (the four rules of the FudanVI benchmark's
    paper) gives, on the benchmark's own CRNN and SAR prediction files, all 8 published ACC cells exactly and the NED
    cells to within 0.0006. Also takes ``BaseMetric``'s ``collect_device`` and ``prefix`` (default ``'recog'``).

    Args:
        nfkc: Apply NFKC before the benchmark's steps; it also folds compatibility characters (circled digits,
            ``…``, ligatures) and scores 0.2-0.3 points above the table on the web set.
    """

    default_prefix = 'recog'

    def __init__(self, nfkc: bool = False, collect_device: str = 'cpu', prefix: Union[str, None] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.nfkc = nfkc

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append((sample['pred_text']['item'], sample['gt_text']['item']))

    def compute_metrics(self, results: Iterable[Tuple[str, str]]) -> Dict[str, float]:
        pairs = list(results)
        return chinese_scores([p for p, _ in pairs], [g for _, g in pairs], self.nfkc)
