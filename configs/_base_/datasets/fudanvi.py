# FudanVI Chinese text recognition benchmark (LMDB release): train / val / test per scenario.
# `--cfg-options fudanvi_root=/x` moves every path below under /x (docs/en/data_preparation.md#data-roots)
fudanvi_root = 'data/benchmarking-chinese-text-recognition'
fudanvi_scenarios = ('scene', 'web', 'document', 'handwriting')
fudanvi_train = dict(type='LabeledLMDBDataset', data_root=[f'{fudanvi_root}/{s}/{s}_train' for s in fudanvi_scenarios],
                     num_samples=None, pipeline=None)
fudanvi_val_sets = [
    dict(type='LabeledLMDBDataset', data_root=f'{fudanvi_root}/{s}/{s}_val', test_mode=True, pipeline=None)
    for s in fudanvi_scenarios
]
fudanvi_test_sets = [
    dict(type='LabeledLMDBDataset', data_root=f'{fudanvi_root}/{s}/{s}_test', test_mode=True, pipeline=None)
    for s in fudanvi_scenarios
]
