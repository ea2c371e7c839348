"""Sentence accuracy and 1-NED under the FudanVI Chinese benchmark's normalisation."""
import unicodedata
from typing import Dict, Sequence

from mmengine.evaluator import BaseMetric
from rapidfuzz.distance import Levenshtein

from lmim_mm.registry import register


def to_halfwidth(text: str) -> str:
    """Full-width forms (U+FF01-U+FF5E) and the ideographic space to their ASCII counterparts."""
    out = []
    for char in text:
        code = ord(char)
        if code == 0x3000:
            code = 0x20
        elif 0xFF01 <= code <= 0xFF5E:
            code -= 0xFEE0
        out.append(chr(code))
    return ''.join(out)


def normalize_chinese(text: str) -> str:
    """FudanVI normalisation: full -> half width, traditional -> simplified, lower case, no spaces.

    Args:
        text: A prediction or a label.

    Returns:
        The normalised string.
    """
    import zhconv  # the converter the FudanVI benchmark code uses

    text = zhconv.convert(to_halfwidth(unicodedata.normalize('NFKC', text)), 'zh-cn')
    return ''.join(text.lower().split())


@register('METRICS')
class ChineseRecogMetric(BaseMetric):
    """Chinese text recognition: sentence accuracy and 1 - normalised edit distance.

    Both compare :func:`normalize_chinese` of prediction and label. Reports ``sentence_acc`` and
    ``1-N.E.D`` (mmocr's name for it).

    Args:
        collect_device: ``'cpu'`` or ``'gpu'`` for collecting results across ranks.
        prefix: Metric name prefix (default ``'recog'``).
    """

    default_prefix = 'recog'

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = normalize_chinese(sample.get('pred_text').get('item'))
            gt = normalize_chinese(sample.get('gt_text').get('item'))
            self.results.append(dict(match=float(pred == gt),
                                     norm_ed=Levenshtein.normalized_distance(pred, gt)))

    def compute_metrics(self, results: Sequence[dict]) -> Dict[str, float]:
        num = max(1, len(results))
        return {
            'sentence_acc': round(sum(r['match'] for r in results) / num, 4),
            '1-N.E.D': round(1.0 - sum(r['norm_ed'] for r in results) / num, 4),
        }
