# Fine-tune the LMIM-pretrained ViT-S + 6-layer Transformer decoder on Union14M-L (5 subsets), validate
# on the six common benchmarks, test on the Union14M-Benchmark subsets (plus their averages).
#   tools/dist_train.sh configs/textrecog/vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l.py 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/lmim_pretrain/epoch_10.pth
# The authors' flags: --fixed_encoder_layers -> model.backbone.frozen_stages, --smoothing ->
# model.decoder.module_loss.label_smoothing, --num_samples -> train_dataloader.dataset.datasets.0.num_samples,
# --use_abi_aug -> use_abi_aug (this file), --drop/--attn_drop_rate/--drop_path -> model.backbone.{drop_rate,
# attn_drop_rate,drop_path_rate}, --beam_width -> model.decoder.beam_width, --dist_eval -> tools/dist_test.sh,
# --resume -> tools/train.py --resume, --eval -> tools/test.py.
_base_ = [
    '../_base_/models/recognizer_vit_s.py',
    '../_base_/datasets/union14m_l.py',
    '../_base_/datasets/recog_pipelines.py',
    '../_base_/datasets/recog_evaluator.py',
    '../_base_/schedules/finetune_adamw_cosine.py',
    '../_base_/recog_runtime.py',
]
# the LMIM student (keys `backbone.*` of a pretraining checkpoint, loaded strictly); None = from scratch
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.')))

train_dataloader = dict(
    _base_.recog_train_dataloader,
    dataset=dict(type='ConcatDataset', datasets=[_base_.union14m_l_train], pipeline=_base_.recog_train_pipeline))
val_dataloader = dict(
    _base_.recog_test_dataloader,
    dataset=dict(type='ConcatDataset', datasets=_base_.common_benchmark_sets, pipeline=_base_.recog_test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(type='ConcatDataset', datasets=_base_.union14m_benchmark_sets, pipeline=_base_.recog_test_pipeline))
val_evaluator = dict(type='AveragingMultiDatasetsEvaluator', metrics=_base_.recog_metrics,
                     dataset_prefixes=list(_base_.common_benchmarks))
test_evaluator = dict(type='AveragingMultiDatasetsEvaluator', metrics=_base_.recog_metrics,
                      dataset_prefixes=list(_base_.union14m_benchmarks))
default_hooks = dict(checkpoint=dict(save_best='mean/recog/word_acc_ignore_case_symbol', rule='greater'))
