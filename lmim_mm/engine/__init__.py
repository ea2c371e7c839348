from .hooks import (
    AtomicCheckpointHook,
    DictCoverageHook,
    ExactResumeHook,
    PretrainVisualizationHook,
    RecognitionSamplesHook,
    SkipReportHook,
)
from .runner import CrashSafeRunner, ExactResumeIterBasedTrainLoop

__all__ = ['AtomicCheckpointHook', 'CrashSafeRunner', 'DictCoverageHook', 'ExactResumeHook',
           'ExactResumeIterBasedTrainLoop', 'PretrainVisualizationHook', 'RecognitionSamplesHook', 'SkipReportHook']
