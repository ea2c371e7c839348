from mmengine.structures import LabelData
from mmocr.structures import TextRecogDataSample

from lmim_mm.evaluation import LabelLengthMetric


def sample(pred: str, gt: str) -> dict:
    data = TextRecogDataSample()
    data.pred_text = LabelData(item=pred)
    data.gt_text = LabelData(item=gt)
    return data.to_dict()


def test_label_length_metric_counts_long_labels():
    metric = LabelLengthMetric(max_chars=24)
    metric.process([], [sample('a', 'x' * 24), sample('a', 'x' * 25), sample('a', 'y' * 40)])
    assert metric.compute_metrics(metric.results) == {'num_samples': 3, 'num_too_long': 2}
