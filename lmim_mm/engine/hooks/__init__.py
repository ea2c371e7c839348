from .dict_coverage import DictCoverageHook
from .exact_resume import ExactResumeHook
from .visualization import PretrainVisualizationHook, RecognitionSamplesHook

__all__ = ['DictCoverageHook', 'ExactResumeHook', 'PretrainVisualizationHook', 'RecognitionSamplesHook']
