# MAE for text (MAERec's recipe, LMIM's teacher): ViT-S, mask 0.75, norm-pix pixel target,
# AdamW (0.9, 0.95), lr 1.5e-4 x batch / 256, 2 warm-up epochs + cosine, 20 epochs, batch 8 x 128 = 1024.
_base_ = [
    '../_base_/models/mae_vit_s.py',
    '../_base_/datasets/union14m_u.py',
    '../_base_/datasets/pretrain_two_view.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/pretrain_runtime.py',
]
warmup_epochs = 2
max_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
train_dataloader = dict(
    _base_.pretrain_dataloader,
    batch_size=128,
    dataset=dict(type='mmocr.UnlabeledLMDBDataset', data_root=_base_.union14m_u_train_roots, num_samples=None,
                 pipeline=_base_.single_view_pipeline))
test_dataloader = dict(
    _base_.pretrain_test_dataloader,
    dataset=dict(type='mmocr.UnlabeledLMDBDataset', data_root=_base_.union14m_u_test_roots, test_mode=True,
                 pipeline=_base_.single_view_pipeline))
test_evaluator = dict(type='ReconstructionLossMetric')
test_cfg = dict(type='TestLoop')
