# Demo step 1: an MAE teacher (pixel reconstruction, mask 0.75) on the unlabeled images
# (synthetic + real IIIT5K/SVT train images without their labels).
_base_ = ['_pretrain_base.py']
model = dict(
    type='TextMAE',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
    backbone=_base_.tiny_backbone,
    neck=dict(type='TextMAEDecoder', in_channels=128, embed_dim=128, depth=2, num_heads=4, out_channels=8 * 8 * 3,
              grid_size=_base_.tiny_grid),
    head=dict(type='TextMAEHead', patch_size=8, norm_pix=True))
train_dataloader = dict(
    _base_.pretrain_dataloader, batch_size=64, num_workers=0, persistent_workers=False,
    dataset=dict(type='mmocr.UnlabeledLMDBDataset', data_root=_base_.unlabeled_roots,
                 pipeline=_base_.single_view_pipeline))
