from .evaluator import AveragingMultiDatasetsEvaluator
from .metrics import ChineseRecogMetric, LabelLengthMetric, normalize_chinese

__all__ = ['AveragingMultiDatasetsEvaluator', 'ChineseRecogMetric', 'LabelLengthMetric', 'normalize_chinese']
