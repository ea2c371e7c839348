# MMS: MAE pixel reconstruction where each sample's mask comes from random patch, blockwise or span
# masking (per-sample choice, drawn by the data pipeline). Same model and schedule as the MAE recipe. The
# members share one ratio (0.75: 192 of 256 tokens, span = 24 whole columns) so that a batch stacks.
_base_ = ['../mae/mae_vit-s-p4_8xb128-amp-coslr-20e_union14m-u.py']
mms_pipeline = [
    _base_.single_view_pipeline[0],
    dict(type='MixedMaskGenerator',
         generators=[dict(type='RandomPatchMaskGenerator'), dict(type='BlockwiseMaskGenerator'),
                     dict(type='SpanMaskGenerator')],
         probs=[1 / 3, 1 / 3, 1 / 3], ratio=0.75, grid_size=_base_.mask_grid),
    _base_.single_view_pipeline[-1],
]
train_dataloader = dict(dataset=dict(pipeline=mms_pipeline))
test_dataloader = dict(dataset=dict(pipeline=mms_pipeline))
