_base_ = ['vit_s_backbone.py']
model = dict(
    type='LMIM',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
    backbone=_base_.backbone,
    neck=dict(type='AlignmentDecoder', in_channels=384, embed_dim=512, depth=2, num_heads=16, ffn_dim=2048,
              dropout=0.1),
    head=dict(type='LMIMHead', align_weight=1.0),
    # MAERec's MAE ViT-S checkpoint (vit_small_checkpoint-19.pth): the authors' --teacher_weight
    teacher_checkpoint='checkpoints/vit_small_checkpoint-19.pth',
    teacher_momentum=None,  # fixed teacher as the authors; a float enables an EMA teacher
)  # masks: drawn by the data pipeline (datasets/pretrain_two_view.py)
