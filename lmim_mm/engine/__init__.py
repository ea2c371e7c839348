from . import fileio  # noqa: F401  (registers the 'atomic_local' backend)
from .hooks import ExactResumeHook, PretrainVisualizationHook, RecognitionSamplesHook

__all__ = ['ExactResumeHook', 'PretrainVisualizationHook', 'RecognitionSamplesHook']
