"""TextScorer: one scoring rule, the metric objects of the config's evaluator."""
from pathlib import Path

import pytest
from mmengine.config import Config

from lmim_mm.evaluation import TextScorer
from lmim_mm.evaluation.scoring import metric_configs

REPO = Path(__file__).resolve().parents[2]


def test_chinese_scorer_counts_wrong_chinese_words_as_wrong():
    chinese = TextScorer.for_dictionary(['中', '文', 'a'])
    assert chinese.score(['中国', '中華'], ['美国', '中华']) == {'sentence_acc': 0.5, '1-N.E.D': 0.75}
    assert chinese.correct(['中国', '中華'], ['美国', '中华']) == [False, True]
    # the Latin rule keeps [A-Za-z0-9] only: on Chinese words it compares '' with '' and calls everything right
    latin = TextScorer.for_dictionary(['a', 'b'])
    assert latin.score(['中国'], ['美国'])['word_acc_ignore_case_symbol'] == 1.0


def test_scorer_from_config_uses_its_evaluator_metrics():
    cfg = Config.fromfile(
        REPO / 'configs' / 'textrecog' / 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-60e_fudanvi.py')
    scores = TextScorer.from_config(cfg).score(['中国', 'ab'], ['中国', 'AB'])
    assert scores == {'sentence_acc': 1.0, '1-N.E.D': 1.0, 'num_samples': 2, 'num_too_long': 0}
    latin = TextScorer(metric_configs(dict(type='Evaluator', metrics=[dict(type='WordMetric', mode=['exact'])])))
    assert latin.correct(['Cat', 'cat'], ['cat', 'cat']) == [False, True]  # only 'exact' reported: case counts
    with pytest.raises(KeyError, match='no val_evaluator'):
        TextScorer.from_config(Config(dict()), 'val')
