from .averaging_evaluator import AveragingMultiDatasetsEvaluator

__all__ = ['AveragingMultiDatasetsEvaluator']
