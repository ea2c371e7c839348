# Masks are drawn here, one per sample (data_samples[i].mask, True = masked), on the backbone's token
# grid: 32x128 images in 4x4 patches (models/vit_s_backbone.py) give 8x32 tokens.
mask_grid = (8, 32)
# LMIM input: a clean view (resize only) masked with random patches at the authors' --mask_ratio 0.8, and
# an unmasked guidance view (METHOD.md sec. 3 "medium" augmentation). Block masking (the paper's
# ablation): dict(type='BlockwiseMaskGenerator', ratio=0.6, grid_size=mask_grid).
two_view_pipeline = [
    dict(type='LMIMTwoView', size=(32, 128)),
    dict(type='RandomPatchMaskGenerator', ratio=0.8, grid_size=mask_grid),
    dict(type='PackInputs'),
]
# MAE input: one resized view, random patches masked at 0.75 (MMS: configs/mms).
single_view_pipeline = [
    dict(type='Resize', scale=(128, 32), keep_ratio=False, interpolation='bicubic'),
    dict(type='RandomPatchMaskGenerator', ratio=0.75, grid_size=mask_grid),
    dict(type='PackInputs'),
]
pretrain_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # undecodable images are skipped (and counted) by the dataset, dropped here
    collate_fn=dict(type='skip_collate', collate='default_collate'),
)
pretrain_test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
