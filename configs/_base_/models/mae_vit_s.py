_base_ = ['vit_s_backbone.py']
model = dict(
    type='TextMAE',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
    backbone=_base_.backbone,
    neck=dict(type='TextMAEDecoder', in_channels=384, embed_dim=512, depth=8, num_heads=16, out_channels=48),
    head=dict(type='TextMAEHead', patch_size=4, norm_pix=True),
)  # masks: drawn by the data pipeline (datasets/pretrain_two_view.py)
