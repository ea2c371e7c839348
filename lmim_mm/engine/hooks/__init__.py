from .checkpoint import AtomicCheckpointHook
from .dict_coverage import DictCoverageHook
from .exact_resume import ExactResumeHook
from .skip_report import SkipReportHook
from .visualization import PretrainVisualizationHook, RecognitionSamplesHook

__all__ = ['AtomicCheckpointHook', 'DictCoverageHook', 'ExactResumeHook', 'PretrainVisualizationHook',
           'RecognitionSamplesHook', 'SkipReportHook']
