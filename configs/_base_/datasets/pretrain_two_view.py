# LMIM input: a clean view (resize only) and a guidance view (METHOD.md sec. 3 "medium" augmentation).
two_view_pipeline = [dict(type='LMIMTwoView', size=(32, 128)), dict(type='PackInputs')]
# MAE / MMS input: one resized view.
single_view_pipeline = [
    dict(type='Resize', scale=(128, 32), keep_ratio=False, interpolation='bicubic'),
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
