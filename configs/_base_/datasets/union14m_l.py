# Union14M-L (4M labeled real words) LMDBs, its benchmark and the six common benchmarks.
# Each *_root below is one --cfg-options key that moves every path made from it (docs/en/data_preparation.md).
# `num_samples` (the authors' --num_samples): None = all, an int = first N of each LMDB, a float = fraction.
union14m_l_root = 'data/Union14M-L-lmdb'
union14m_l_train = dict(
    type='LabeledLMDBDataset',
    data_root=[f'{union14m_l_root}/train/{name}'
               for name in ('train_challenging', 'train_hard', 'train_medium', 'train_normal', 'train_easy')],
    num_samples=None,
    pipeline=None)

common_benchmark_root = 'data/common_benchmarks'
common_benchmarks = dict(IIIT5K='IIIT5k_3000', SVT='SVT', IC13='IC13_1015', IC15='IC15_2077', SVTP='SVTP',
                         CUTE80='CUTE80')
common_benchmark_sets = [
    dict(type='LabeledLMDBDataset', data_root=f'{common_benchmark_root}/{folder}', test_mode=True, pipeline=None)
    for folder in common_benchmarks.values()
]

union14m_benchmark_root = 'data/Union14M-L/Union14M-Benchmarks/lmdb_format'
union14m_benchmarks = dict(curve='curve', multi_oriented='multi_oriented', artistic='artistic',
                           contextless='contextless', salient='salient', multi_words='multi_words', general='general')
union14m_benchmark_sets = [
    dict(type='LabeledLMDBDataset', data_root=f'{union14m_benchmark_root}/{folder}', test_mode=True, pipeline=None)
    for folder in union14m_benchmarks.values()
]
