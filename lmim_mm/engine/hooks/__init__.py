from .exact_resume import ExactResumeHook
from .visualization import PretrainVisualizationHook, RecognitionSamplesHook

__all__ = ['ExactResumeHook', 'PretrainVisualizationHook', 'RecognitionSamplesHook']
