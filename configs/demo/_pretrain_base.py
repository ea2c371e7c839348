# Iteration-based pretraining schedule shared by the demo's MAE teacher and LMIM runs.
_base_ = ['../_base_/pretrain_runtime.py', '../_base_/datasets/pretrain_two_view.py', '_tiny_settings.py']
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0, flat_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.0), 'cls_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=50, end={{_base_.train_iters}}),
]
train_cfg = dict(type='mmocr.ExactResumeIterBasedTrainLoop', max_iters={{_base_.train_iters}})
default_hooks = dict(logger=dict(interval=25, log_metric_by_epoch=False),
                     checkpoint=dict(by_epoch=False, interval={{_base_.checkpoint_interval}}, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
unlabeled_roots = [_base_.data_root + '/unlabeled', _base_.data_root + '/real_unlabeled']
# the pipelines of ../_base_/datasets/pretrain_two_view.py with masks on the demo ViT's token grid
two_view_pipeline = [dict(step, grid_size=_base_.tiny_grid) if 'grid_size' in step else step
                     for step in _base_.two_view_pipeline]
single_view_pipeline = [dict(step, grid_size=_base_.tiny_grid) if 'grid_size' in step else step
                        for step in _base_.single_view_pipeline]
# pictures of masks and reconstructions (MAE) or teacher-feature similarity (LMIM) at the end
custom_hooks = [dict(type='mmocr.ExactResumeHook'), dict(type='mmocr.SkipReportHook'), _base_.non_finite_guard,
                dict(type='PretrainVisualizationHook', interval_iters=100000, num_samples=6)]
