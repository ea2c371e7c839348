# Evaluate a fine-tuned recognizer on the six common benchmarks:
#   tools/test.py configs/textrecog/lmim_vit-s_tfdec_common-benchmarks.py CKPT
_base_ = ['lmim_vit-s_tfdec_8xb64_union14m-l_10e.py']
test_dataloader = dict(dataset=dict(datasets=_base_.common_benchmark_sets))
test_evaluator = dict(dataset_prefixes=list(_base_.common_benchmarks))
