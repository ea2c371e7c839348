# AdamW (0.9, 0.95), wd 0.05 without decay on biases / norms / 1-D params / tokens,
# lr = blr * total_batch / 256 (auto_scale_lr), warm-up then cosine to 0, per iteration.
blr = 1.5e-4  # the authors' --blr
warmup_epochs = 1
max_epochs = 10
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    accumulative_counts=1,  # the authors' --accum_iter
    optimizer=dict(type='AdamW', lr=blr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        bias_decay_mult=0.0, norm_decay_mult=0.0, flat_decay_mult=0.0,
        custom_keys={'pos_embed': dict(decay_mult=0.0), 'mask_token': dict(decay_mult=0.0),
                     'cls_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# lr is given for a batch of 256 and scaled to the real total batch (the authors' blr rule)
auto_scale_lr = dict(enable=True, base_batch_size=256)
