# MMS: MAE pixel reconstruction where each sample's mask comes from random patch, blockwise or span
# masking (per-sample choice). Same schedule as the MAE recipe. The members share one ratio (0.75:
# 192 of 256 tokens, span = 24 whole columns) so that a batch mixing strategies stacks.
_base_ = ['../mae/mae_vit-s-p4_8xb128-amp-coslr-20e_union14m-u.py']
model = dict(
    _delete_=True,
    type='MMS',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    head=_base_.model.head,
    mask_generator=dict(
        type='MixedMaskGenerator',
        generators=[dict(type='RandomPatchMaskGenerator'), dict(type='BlockwiseMaskGenerator'),
                    dict(type='SpanMaskGenerator')],
        probs=[1 / 3, 1 / 3, 1 / 3],
        ratio=0.75))
