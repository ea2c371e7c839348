from typing import Dict, List, Sequence

from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


@METRICS.register_module()
class ReconstructionLossMetric(BaseMetric):
    """Average the per-sample losses that masked-image-modelling models return in ``'predict'`` mode: ``pred_loss`` (a
    dict of 0-d tensors or floats: ``loss``, ``loss_recon``, ...) of every data sample, each entry's mean over the
    evaluated set: the held-out reconstruction loss of a pretraining checkpoint (``tools/test.py`` on an unlabeled
    LMDB). Takes ``BaseMetric``'s ``collect_device`` and ``prefix`` (default ``'recon'``)."""

    default_prefix = 'recon'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for index, sample in enumerate(data_samples):
            if 'pred_loss' not in sample:
                raise KeyError(f'data sample {index} of the batch has no "pred_loss"; evaluate a model whose '
                               "'predict' mode returns per-sample losses (TextMAE, MMS, LMIM)")
            self.results.append({name: float(value) for name, value in sample['pred_loss'].items()})

    def compute_metrics(self, results: List[Dict[str, float]]) -> Dict[str, float]:
        return {name: sum(result[name] for result in results) / len(results) for name in (results or [{}])[0]}
