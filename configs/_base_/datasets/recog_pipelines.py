# Recognition pipelines (mmocr transforms). Lazy datasets hand over decoded images, which
# LoadImageFromNDArray takes as they are (mmocr's TextRecInferencer replaces it by its own loader).
# Training: ABINet-style augmentation drawn per sample (the authors drew it once per dataset object - a flaw
# we do not copy).
abinet_aug = [
    dict(type='RandomApply', prob=0.5, transforms=[
        dict(type='RandomChoice', transforms=[
            dict(type='RandomRotate', max_angle=15),
            dict(type='TorchVisionWrapper', op='RandomAffine', degrees=15, translate=(0.3, 0.3), scale=(0.5, 2.),
                 shear=(-45, 45)),
            dict(type='TorchVisionWrapper', op='RandomPerspective', distortion_scale=0.5, p=1),
        ])]),
    dict(type='RandomApply', prob=0.25, transforms=[
        dict(type='PyramidRescale'),
        dict(type='mmdet.Albu', transforms=[dict(type='GaussNoise', var_limit=(20, 20), p=0.5),
                                            dict(type='MotionBlur', blur_limit=7, p=0.5)]),
    ]),
    dict(type='RandomApply', prob=0.25, transforms=[
        dict(type='TorchVisionWrapper', op='ColorJitter', brightness=0.5, saturation=0.5, contrast=0.5, hue=0.1),
    ]),
]
use_abi_aug = True  # the authors' --use_abi_aug
# without augmentation (Chinese, the demo)
recog_plain_train_pipeline = [
    dict(type='LoadImageFromNDArray'),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='Resize', scale=(128, 32), keep_ratio=False, interpolation='bicubic'),
    dict(type='PackTextRecogInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]
recog_train_pipeline = [*recog_plain_train_pipeline[:3], *(abinet_aug if use_abi_aug else []),
                        recog_plain_train_pipeline[3]]
recog_test_pipeline = [
    dict(type='LoadImageFromNDArray'),
    dict(type='Resize', scale=(128, 32), keep_ratio=False, interpolation='bicubic'),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='PackTextRecogInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]
# Dataloaders of the recognition configs, which add `dataset`. Undecodable training images are skipped
# (and counted) by the lazy datasets and dropped by skip_collate.
recog_train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='skip_collate', collate='pseudo_collate'))
recog_test_dataloader = dict(
    batch_size=128, num_workers=4, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False))
