_base_ = ['vit_s_backbone.py']
model = dict(
    type='LMIM',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
    backbone=_base_.backbone,
    neck=dict(type='AlignmentDecoder', in_channels=384, embed_dim=512, depth=2, num_heads=16, ffn_dim=2048,
              dropout=0.1),
    head=dict(type='LMIMHead', align_weight=1.0),
    # the authors' --teacher_weight, MAERec's MAE ViT-S (vit_small_checkpoint-19.pth), converted once by
    #   python tools/model_converters/maerec_mae_to_mm.py vit_small_checkpoint-19.pth \
    #       checkpoints/vit_small_checkpoint-19_mm.pth --prefix backbone.
    teacher_init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vit_small_checkpoint-19_mm.pth',
                          prefix='backbone.'),
    teacher_momentum=None,  # fixed teacher as the authors; a float enables an EMA teacher
)  # masks: drawn by the data pipeline (datasets/pretrain_two_view.py)
