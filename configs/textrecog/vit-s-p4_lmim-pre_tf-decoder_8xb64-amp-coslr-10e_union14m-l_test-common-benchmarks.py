# Evaluate a fine-tuned recognizer on the six common benchmarks:
#   tools/test.py \
#       configs/textrecog/vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l_test-common-benchmarks.py CKPT
_base_ = ['vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l.py']
test_dataloader = dict(dataset=dict(datasets=_base_.common_benchmark_sets))
test_evaluator = dict(dataset_prefixes=list(_base_.common_benchmarks))
