from . import fileio  # noqa: F401  (registers the 'atomic_local' backend)
from .hooks import DictCoverageHook, ExactResumeHook, PretrainVisualizationHook, RecognitionSamplesHook

__all__ = ['DictCoverageHook', 'ExactResumeHook', 'PretrainVisualizationHook', 'RecognitionSamplesHook']
