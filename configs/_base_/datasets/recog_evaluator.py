# Per set: WAICS (word accuracy ignoring case and symbols: keep [0-9a-zA-Z]), case-sensitive
# accuracy, 1-NED and the count of labels longer than the decoder can emit (kept, never dropped);
# then the plain and the size-weighted average over the sets.
recog_metrics = [
    dict(type='WordMetric', mode=['exact', 'ignore_case_symbol'], valid_symbol='[^A-Za-z0-9]'),
    dict(type='OneMinusNEDMetric', valid_symbol='[^A-Za-z0-9]'),
    dict(type='LabelLengthMetric', max_chars=24),
]
chinese_metrics = [dict(type='ChineseRecogMetric'), dict(type='LabelLengthMetric', max_chars=39)]
