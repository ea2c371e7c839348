from collections import defaultdict
from typing import Dict, List

from mmocr.evaluation import MultiDatasetsEvaluator
from mmocr.registry import EVALUATOR


@EVALUATOR.register_module()
class AveragingMultiDatasetsEvaluator(MultiDatasetsEvaluator):
    """Per-dataset metrics (``<prefix>/recog/<name>``) and, over the datasets, ``mean/recog/<name>`` (plain average)
    and ``wmean/recog/<name>`` (weighted by dataset size: the ConcatDataset's ``cumulative_sizes`` that mmocr puts in
    ``dataset_meta``); count-type metrics (``num_*``) are summed (``sum/recog/<name>``) instead."""

    def evaluate(self, size: int) -> Dict[str, float]:
        results = super().evaluate(size)
        cumulative = list(self.dataset_meta.get('cumulative_sizes', [size]))
        sizes = dict(zip(self.dataset_prefixes, [b - a for a, b in zip([0] + cumulative[:-1], cumulative)]))
        per_metric: Dict[str, List[tuple]] = defaultdict(list)
        for name, value in results.items():
            prefix, metric = name.split('/', 1)
            if prefix in sizes:
                per_metric[metric].append((value, sizes[prefix]))
        for metric, entries in per_metric.items():
            if metric.rsplit('/', 1)[-1].startswith('num_'):
                results[f'sum/{metric}'] = sum(v for v, _ in entries)
                continue
            results[f'mean/{metric}'] = round(sum(v for v, _ in entries) / len(entries), 4)
            results[f'wmean/{metric}'] = round(sum(v * n for v, n in entries) / max(1, sum(n for _, n in entries)), 4)
        return results
