# LMIM ViT-S pretraining on Union14M-U: 8 GPUs x 64, AdamW (0.9, 0.95), lr 1.5e-4 x batch / 256,
# 1 warm-up epoch + cosine per iteration, 10 epochs, AMP (bf16), teacher = MAERec's MAE ViT-S.
_base_ = [
    '../_base_/models/lmim_vit_s.py',
    '../_base_/datasets/union14m_u.py',
    '../_base_/datasets/pretrain_two_view.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/pretrain_runtime.py',
]
train_dataloader = dict(
    _base_.pretrain_dataloader,
    dataset=dict(type='mmocr.UnlabeledLMDBDataset', data_root=_base_.union14m_u_train_roots, num_samples=None,
                 pipeline=_base_.two_view_pipeline))
# `tools/test.py CONFIG CKPT` reports the reconstruction losses on a held-out unlabeled LMDB
test_dataloader = dict(
    _base_.pretrain_test_dataloader,
    dataset=dict(type='mmocr.UnlabeledLMDBDataset', data_root=_base_.union14m_u_test_roots, test_mode=True,
                 pipeline=_base_.two_view_pipeline))
test_evaluator = dict(type='ReconstructionLossMetric')
test_cfg = dict(type='TestLoop')
