# The LMIM pretraining recipe as the authors ran it (8 GPUs x 64, 10 epochs):
#   bash tools/dist_train.sh configs/lmim_pretrain.py 8 \
#       --cfg-options model.teacher_init_cfg.checkpoint=path/to/vit_small_checkpoint-19_mm.pth \
#                     union14m_u_root=/datasets/Union14M-U   (moves every Union14M-U path)
# The authors' flags: --mask_ratio -> train_dataloader.dataset.pipeline.1.ratio (the mask transform),
# --blr -> optim_wrapper.optimizer.lr (per 256, scaled by auto_scale_lr), --warmup_epochs / --epochs ->
# param_scheduler / train_cfg,
# --accum_iter -> optim_wrapper.accumulative_counts, --teacher_weight -> model.teacher_init_cfg.checkpoint
# (converted: configs/_base_/models/lmim_vit_s.py).
_base_ = ['lmim/lmim_vit-s-p4_8xb64-amp-coslr-10e_union14m-u.py']
