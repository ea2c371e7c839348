from .evaluator import AveragingMultiDatasetsEvaluator
from .metrics import ChineseRecogMetric, LabelLengthMetric, ReconstructionLossMetric, normalize_chinese

__all__ = [
    'AveragingMultiDatasetsEvaluator', 'ChineseRecogMetric', 'LabelLengthMetric', 'ReconstructionLossMetric',
    'normalize_chinese'
]
