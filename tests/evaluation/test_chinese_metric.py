"""ChineseRecogMetric against the FudanVI benchmark's published table, and the prediction-file parser."""
from pathlib import Path

import pytest
from mmengine.structures import LabelData
from mmocr.structures import TextRecogDataSample

from lmim_mm.evaluation import ChineseRecogMetric, normalize_chinese
from lmim_mm.evaluation.metrics.chinese_metric import parse_prediction_line, read_predictions

#: The benchmark's published table (its README): ACC in %, NED = 1 - normalised edit distance.
PUBLISHED = {
    ('CRNN', 'scene'): (54.94, 0.742), ('CRNN', 'web'): (56.21, 0.745),
    ('CRNN', 'document'): (97.41, 0.995), ('CRNN', 'handwriting'): (48.04, 0.843),
    ('SAR', 'scene'): (53.80, 0.738), ('SAR', 'web'): (50.49, 0.705),
    ('SAR', 'document'): (96.23, 0.993), ('SAR', 'handwriting'): (30.95, 0.732),
}


def sample(pred: str, gt: str) -> dict:
    data = TextRecogDataSample()
    data.pred_text = LabelData(item=pred)
    data.gt_text = LabelData(item=gt)
    return data.to_dict()


def score(preds, gts, **kwargs) -> dict:
    metric = ChineseRecogMetric(**kwargs)
    metric.process([], [dict(pred_text=dict(item=p), gt_text=dict(item=g)) for p, g in zip(preds, gts)])
    return metric.compute_metrics(metric.results)


@pytest.fixture(scope='module')
def predictions(shared_dir) -> dict:
    root = shared_dir / 'data' / 'fudanvi' / 'predictions'
    return {key: read_predictions(root / key[0] / f'{key[0]}_{key[1]}.txt') for key in PUBLISHED}


def test_reproduces_the_published_table(predictions):
    sizes = dict(scene=63646, web=14059, document=50000, handwriting=23389)
    for (model, subset), (acc, ned) in PUBLISHED.items():
        preds, gts = predictions[model, subset]
        assert len(preds) == sizes[subset]
        res = score(preds, gts)
        assert round(100 * res['sentence_acc'], 2) == acc, (model, subset, res)
        assert abs(res['1-N.E.D'] - ned) <= 0.001, (model, subset, res)


def test_nfkc_option_is_the_other_variant(predictions):
    # NFKC folds more than the benchmark does: 0.29 points above the table on CRNN / web
    res = score(*predictions['CRNN', 'web'], nfkc=True)
    assert round(100 * res['sentence_acc'], 2) == 56.50


def test_normalisation_steps():
    assert normalize_chinese('ＡＢＣ　１２３') == 'abc123'  # full width -> half width, no spaces
    assert normalize_chinese('中華人民共和國') == '中华人民共和国'  # traditional -> simplified
    assert normalize_chinese('Hello World') == 'helloworld'
    assert normalize_chinese('①') == '①' and normalize_chinese('①', nfkc=True) == '1'


def test_metric_accuracy_and_ned_on_data_samples():
    metric = ChineseRecogMetric()
    metric.process([], [sample('中華 ABC', '中华abc'), sample('中文字', '中文'), sample('', '中文')])
    res = metric.compute_metrics(metric.results)
    assert res['sentence_acc'] == round(1 / 3, 4)
    assert res['1-N.E.D'] == round(1 - (0 + 1 / 3 + 1) / 3, 4)  # NED 0, 1/3, 1


@pytest.mark.parametrize('line, expected', [
    ('0 [湖南特产] [湖南特产]\n', (0, '湖南特产', '湖南特产')),
    ('12 [] [空]', (12, '', '空')),
    ('3 [a b] [ c d ]', (3, 'a b', ' c d ')),
    ('4 [[x]] [[y]]', (4, '[x]', '[y]')),
    ('5 [a] b] [c [d]', (5, 'a] b', 'c [d')),
    ('6 [价格]] [[价格]\r\n', (6, '价格]', '[价格')),
])
def test_parse_tricky_lines(line, expected):
    assert parse_prediction_line(line) == expected


@pytest.mark.parametrize('line, message', [
    ('7 [a] [b] [c]', 'occurs 2 times'),  # which "] [" ends the prediction cannot be told
    ('x [a] [b]', 'expected'),
    ('8 [a] [b', 'expected'),
    ('9 a b', 'expected'),
])
def test_parse_rejects_bad_lines(line, message):
    with pytest.raises(ValueError, match=message):
        parse_prediction_line(line, 'preds.txt:1')


def test_read_predictions_names_the_bad_line(tmp_path: Path):
    path = tmp_path / 'preds.txt'
    path.write_text('0 [a] [a]\n1 [b] [b]\n3 [c] [c]\n', encoding='utf-8')
    with pytest.raises(ValueError, match=r'preds.txt:3: index 3, expected 2'):
        read_predictions(path)
