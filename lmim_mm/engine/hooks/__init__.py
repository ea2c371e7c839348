from .checkpoint import AtomicCheckpointHook
from .dict_coverage import DictCoverageHook
from .exact_resume import ExactResumeHook
from .non_finite import NonFiniteLossHook
from .skip_report import SkipReportHook
from .visualization import PretrainVisualizationHook, RecognitionSamplesHook

__all__ = ['AtomicCheckpointHook', 'DictCoverageHook', 'ExactResumeHook', 'NonFiniteLossHook',
           'PretrainVisualizationHook', 'RecognitionSamplesHook', 'SkipReportHook']
