from typing import Dict, Sequence

from mmengine.evaluator import BaseMetric
from mmocr.registry import METRICS


@METRICS.register_module()
class LabelLengthMetric(BaseMetric):
    """Count the labels longer than the decoder can emit: the authors' evaluation silently replaced such samples, here
    they stay in the test set (errors for every accuracy). Takes ``BaseMetric``'s ``collect_device`` and ``prefix``.

    Args:
        max_chars: Longest label the decoder can produce (``max_seq_len - 1``: 24 for English, 39 for Chinese).
    """

    default_prefix = 'recog'

    def __init__(self, max_chars: int = 24, collect_device: str = 'cpu', prefix=None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.max_chars = max_chars

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(len(sample.get('gt_text').get('item')) > self.max_chars)

    def compute_metrics(self, results: Sequence[bool]) -> Dict[str, int]:
        return {'num_samples': len(results), 'num_too_long': int(sum(results))}
