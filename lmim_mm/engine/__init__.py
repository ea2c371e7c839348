from lmim_mm.utils import fileio  # noqa: F401  (registers the 'atomic_local' backend and the safe checkpoint loader)
from .hooks import (AtomicCheckpointHook, DictCoverageHook, ExactResumeHook, PretrainVisualizationHook,
                    RecognitionSamplesHook, SkipReportHook)

__all__ = ['AtomicCheckpointHook', 'DictCoverageHook', 'ExactResumeHook', 'PretrainVisualizationHook',
           'RecognitionSamplesHook', 'SkipReportHook']
