from mmengine.structures import LabelData
from mmocr.structures import TextRecogDataSample

from lmim_mm.evaluation import ChineseRecogMetric, LabelLengthMetric, normalize_chinese


def sample(pred: str, gt: str) -> dict:
    data = TextRecogDataSample()
    data.pred_text = LabelData(item=pred)
    data.gt_text = LabelData(item=gt)
    return data.to_dict()


def test_chinese_normalisation():
    assert normalize_chinese('ＡＢＣ　１２３') == 'abc123'  # full width -> half width, no spaces
    assert normalize_chinese('中華人民共和國') == '中华人民共和国'  # traditional -> simplified
    assert normalize_chinese('Hello World') == 'helloworld'


def test_chinese_metric_accuracy_and_ned():
    metric = ChineseRecogMetric()
    metric.process([], [sample('中華 ABC', '中华abc'), sample('中文字', '中文'), sample('', '中文')])
    res = metric.compute_metrics(metric.results)
    assert res['sentence_acc'] == round(1 / 3, 4)
    # NED: 0, 1/3, 1 -> 1 - mean = 1 - 4/9
    assert res['1-N.E.D'] == round(1 - (0 + 1 / 3 + 1) / 3, 4)


def test_label_length_metric_counts_long_labels():
    metric = LabelLengthMetric(max_chars=24)
    metric.process([], [sample('a', 'x' * 24), sample('a', 'x' * 25), sample('a', 'y' * 40)])
    assert metric.compute_metrics(metric.results) == {'num_samples': 3, 'num_too_long': 2}
