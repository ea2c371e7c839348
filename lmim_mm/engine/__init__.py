from .hooks import AtomicCheckpointHook, DictCoverageHook, ExactResumeHook, SkipReportHook
from .hooks.visualization import PretrainVisualizationHook, RecognitionSamplesHook
from .runner import CrashSafeRunner, ExactResumeIterBasedTrainLoop

__all__ = ['AtomicCheckpointHook', 'CrashSafeRunner', 'DictCoverageHook', 'ExactResumeHook',
           'ExactResumeIterBasedTrainLoop', 'PretrainVisualizationHook', 'RecognitionSamplesHook', 'SkipReportHook']
