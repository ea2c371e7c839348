from .chinese_metric import ChineseRecogMetric, normalize_chinese
from .label_length import LabelLengthMetric
from .reconstruction import ReconstructionLossMetric

__all__ = ['ChineseRecogMetric', 'LabelLengthMetric', 'ReconstructionLossMetric', 'normalize_chinese']
