"""One scoring rule for predicted words: :class:`TextScorer` builds the config evaluator's metric objects (as
``tools/test.py``), so ``tools/infer.py`` and :class:`~lmim_mm.engine.hooks.RecognitionSamplesHook` agree with it."""
import copy
from typing import Dict, List, Sequence, Union

from mmengine.evaluator import BaseMetric
from mmocr.registry import METRICS

#: Metrics of ``configs/_base_/datasets/recog_evaluator.py``, for a dictionary without config (ONNX exports).
LATIN_METRICS = (dict(type='WordMetric', mode=['exact', 'ignore_case_symbol'], valid_symbol='[^A-Za-z0-9]'),
                 dict(type='OneMinusNEDMetric', valid_symbol='[^A-Za-z0-9]'))
CHINESE_METRICS = (dict(type='ChineseRecogMetric'), )
#: Keys of a word's accuracy, the one that decides whether a word is right first.
ACCURACY_KEYS = ('word_acc_ignore_case_symbol', 'sentence_acc', 'word_acc_ignore_case', 'word_acc')


def metric_configs(evaluator: Union[dict, Sequence[dict]]) -> List[dict]:
    """The metric configs of an evaluator config (``metrics`` of an evaluator, one metric, or a list)."""
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    return [evaluator] if isinstance(evaluator, dict) else list(evaluator)


class TextScorer:
    """Score predicted words against labels with text-recognition ``metrics``: metric objects, or configs built in
    mmocr's scope whatever the default scope."""

    def __init__(self, metrics: Sequence[Union[dict, BaseMetric]]) -> None:
        self.metrics = [METRICS.build({'_scope_': 'mmocr', **copy.deepcopy(m)}) if isinstance(m, dict) else m
                        for m in metrics]
        if not self.metrics:
            raise ValueError('TextScorer needs at least one metric')

    @classmethod
    def from_config(cls, cfg, phase: str = 'test') -> 'TextScorer':
        """The metrics of ``cfg.<phase>_evaluator`` (``test`` or ``val``); a ``KeyError`` if the config has none."""
        evaluator = cfg.get(f'{phase}_evaluator')
        if not evaluator:
            raise KeyError(f'the config has no {phase}_evaluator to score words with')
        return cls(metric_configs(evaluator))

    @classmethod
    def from_evaluator(cls, evaluator) -> 'TextScorer':
        """Copies of the metric objects of a built evaluator (``evaluator.metrics``), results left alone."""
        return cls([copy.deepcopy(metric) for metric in evaluator.metrics])

    @classmethod
    def for_dictionary(cls, chars: Sequence[str]) -> 'TextScorer':
        """:data:`CHINESE_METRICS` for a dictionary with CJK ideographs (U+4E00-U+9FFF), else :data:`LATIN_METRICS`."""
        chinese = any(len(char) == 1 and '\u4e00' <= char <= '\u9fff' for char in chars)
        return cls(CHINESE_METRICS if chinese else LATIN_METRICS)

    def score(self, preds: Sequence[str], gts: Sequence[str]) -> Dict[str, float]:
        """Every metric's figures (no prefix) of the pairs ``(preds[i], gts[i])``; ``ValueError`` if lengths differ."""
        if len(preds) != len(gts):
            raise ValueError(f'{len(preds)} predictions but {len(gts)} labels')
        samples = [dict(pred_text=dict(item=p), gt_text=dict(item=g)) for p, g in zip(preds, gts)]
        scores = {}
        for metric in self.metrics:
            metric.results.clear()
            metric.process([], samples)
            scores.update(metric.compute_metrics(metric.results))
            metric.results.clear()
        return scores

    def correct(self, preds: Sequence[str], gts: Sequence[str]) -> List[bool]:
        """Whether each pair is right by the first of :data:`ACCURACY_KEYS` reported (a ``KeyError`` if none is)."""
        flags = []
        for pred, gt in zip(preds, gts):
            scores = self.score([pred], [gt])
            key = next((k for k in ACCURACY_KEYS if k in scores), None)
            if key is None:
                raise KeyError(f'none of the metrics reports a word accuracy ({", ".join(ACCURACY_KEYS)}); got '
                               f'{sorted(scores)}')
            flags.append(scores[key] == 1)
        return flags
