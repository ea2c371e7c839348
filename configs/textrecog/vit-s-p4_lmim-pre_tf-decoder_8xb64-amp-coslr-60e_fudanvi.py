# Chinese: 7934 characters + EOS / PADDING / UNKNOWN = 7937 classes, 40 decoding steps; FudanVI
# train/val, test on scene / web / document / handwriting with the Chinese metric (full -> half width,
# traditional -> simplified, lower case, no spaces; sentence accuracy and 1-NED). 60 epochs.
_base_ = [
    '../_base_/models/recognizer_vit_s.py',
    '../_base_/datasets/fudanvi.py',
    '../_base_/datasets/recog_pipelines.py',
    '../_base_/datasets/recog_evaluator.py',
    '../_base_/schedules/finetune_adamw_cosine.py',
    '../_base_/recog_runtime.py',
]
# the benchmark's alphabet, in its order; generated (not committed): make setup, or the command below
chinese_dictionary = dict(
    _base_.dictionary, type='GeneratedDictionary', dict_file='{{ fileDirname }}/../../dicts/chinese_fudanvi.txt',
    how_to_make='python tools/data/fudanvi_dict.py BENCHMARK/models/CRNN/data/benchmark.txt --out '
    'dicts/chinese_fudanvi.txt (BENCHMARK: a checkout of FudanVI/benchmarking-chinese-text-recognition; '
    'see docs/en/data_preparation.md)')
model = dict(
    # the pretrained student: --cfg-options model.backbone.init_cfg.checkpoint=PATH (None = from scratch)
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.')),
    decoder=dict(max_seq_len=40, dictionary=chinese_dictionary))
max_epochs = 60
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=1, end=max_epochs, T_max=max_epochs - 1,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
train_dataloader = dict(
    _base_.recog_train_dataloader,
    dataset=dict(type='ConcatDataset', datasets=[_base_.fudanvi_train], pipeline=_base_.recog_plain_train_pipeline))
val_dataloader = dict(
    _base_.recog_test_dataloader,
    dataset=dict(type='ConcatDataset', datasets=_base_.fudanvi_val_sets, pipeline=_base_.recog_test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(type='ConcatDataset', datasets=_base_.fudanvi_test_sets, pipeline=_base_.recog_test_pipeline))
val_evaluator = dict(type='AveragingMultiDatasetsEvaluator', metrics=_base_.chinese_metrics,
                     dataset_prefixes=list(_base_.fudanvi_scenarios))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='mean/recog/sentence_acc', rule='greater'))
