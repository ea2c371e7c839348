# Demo step 3: the recognizer (ViT-Tiny/8 + LinearNorm + 1-layer Transformer decoder, trained jointly with
# an auxiliary CTC decoder over the token columns) fine-tuned on rendered and real labeled words;
# `model.backbone.init_cfg.checkpoint` = the LMIM checkpoint (pretrained) or None (scratch). Tested on the
# synthetic test split and on real IIIT5K / SVT test images.
# What gets it off the attention plateau within a 2-core CPU budget (a GPU sweep of the same model, data,
# batch and steps; README "Demo"): the auxiliary CTC loss, a warm-up over the first eighth, no decoder
# dropout, no layer-wise lr decay and small batches (32 x 4000 read more than 48 x 2650 or 64 x 2000);
# without them the recognizer read 0.1% after 1400 steps. No data worker process: on two cores it
# preempts the compute threads.
_base_ = [
    '../_base_/recog_runtime.py', '../_base_/datasets/recog_pipelines.py', '../_base_/datasets/recog_evaluator.py',
    '../_base_/models/recognizer_vit_s.py', '_tiny_settings.py'
]
model = dict(
    backbone=dict(_base_.tiny_backbone, _delete_=True, type='mmpretrain.TextViT',
                  init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.')),
    encoder=dict(in_channels=128, out_channels=128),
    decoder=dict(n_layers=1, d_model=128, n_head=4, d_k=32, d_v=32, d_inner=256, dropout=0.0),
    aux_decoder=dict(type='ColumnCTCDecoder', in_channels=128),
    aux_loss_weight=1.0)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=1.0, bias_decay_mult=0.0, norm_decay_mult=0.0, flat_decay_mult=0.0,
                       custom_keys={'cls_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=False, begin=500, end={{_base_.train_iters}}),
]
train_cfg = dict(type='mmocr.ExactResumeIterBasedTrainLoop', max_iters={{_base_.train_iters}},
                 val_interval={{_base_.train_iters}})
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=25, log_metric_by_epoch=False),
                     checkpoint=dict(by_epoch=False, interval={{_base_.checkpoint_interval}}, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
# Fine-tuning data: the rendered train words and the real train words (IIIT5K, SVT and IC15 train), the
# latter repeated `times` (tools/demo.py sets it from the share of real words it wants in the stream).
# Rendered words carry their own geometry / blur / noise / colour variety and get no augmentation.
rendered_train_set = dict(type='LabeledLMDBDataset', data_root=f'{_base_.data_root}/train',
                          pipeline=_base_.recog_plain_train_pipeline)
real_train_set = dict(type='RepeatDataset', times=1,
                      dataset=dict(type='LabeledLMDBDataset', data_root=f'{_base_.data_root}/real_train',
                                   pipeline=_base_.recog_plain_train_pipeline))
train_dataloader = dict(
    _base_.recog_train_dataloader, batch_size=32, num_workers=0, persistent_workers=False,
    dataset=dict(type='ConcatDataset', datasets=[rendered_train_set, real_train_set]))
test_sets = dict(
    synthetic=dict(type='LabeledLMDBDataset', data_root=f'{_base_.data_root}/test', test_mode=True, pipeline=None),
    IIIT5K=dict(type='RecogFolderDataset', data_root=f'{_base_.real_root}/iiit5k_test', test_mode=True, pipeline=None),
    SVT=dict(type='RecogFolderDataset', data_root=f'{_base_.real_root}/svt_test', test_mode=True, pipeline=None))
val_dataloader = dict(
    batch_size=128, num_workers=0, drop_last=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[test_sets['synthetic']], pipeline=_base_.recog_test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(type='ConcatDataset', datasets=list(test_sets.values()), pipeline=_base_.recog_test_pipeline))
val_evaluator = dict(type='AveragingMultiDatasetsEvaluator', metrics=_base_.recog_metrics,
                     dataset_prefixes=['synthetic'])
test_evaluator = dict(type='AveragingMultiDatasetsEvaluator', metrics=_base_.recog_metrics,
                      dataset_prefixes=list(test_sets))
# a grid of test words with prediction / ground truth, green when right (WAICS), red when wrong
custom_hooks = [dict(type='ExactResumeHook'), dict(type='SkipReportHook'), _base_.non_finite_guard,
                dict(type='DictCoverageHook'),
                dict(type='RecognitionSamplesHook', num_samples=24)]
