from .evaluator import AveragingMultiDatasetsEvaluator
from .metrics import ChineseRecogMetric, LabelLengthMetric, ReconstructionLossMetric, normalize_chinese
from .scoring import TextScorer

__all__ = ['AveragingMultiDatasetsEvaluator', 'ChineseRecogMetric', 'LabelLengthMetric', 'ReconstructionLossMetric',
           'TextScorer', 'normalize_chinese']
