# Runtime shared by every lmim_mm config (pretraining and recognition).
custom_imports = dict(imports=['lmim_mm'], allow_failed_imports=False)
# --resume falls back to the newest complete checkpoint; checkpoints are read weights_only, errors name the file
runner_type = 'mmocr.CrashSafeRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # crash-safe: atomic writes (temporary file + fsync + rename), old checkpoints deleted only afterwards
    checkpoint=dict(type='mmocr.AtomicCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# weights_only-loadable checkpoints, strict key and shape checks on load, exact resume (RNG states);
# per-epoch totals of the unreadable training images skipped (all workers and ranks); a NaN / Inf loss
# stops the run (after max_skipped_steps consecutive skipped steps), never reaching the weights or a checkpoint
non_finite_guard = dict(type='mmocr.NonFiniteLossHook', max_skipped_steps=0)
custom_hooks = [dict(type='mmocr.ExactResumeHook'), dict(type='mmocr.SkipReportHook'), non_finite_guard]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # tools/train.py switches to gloo on CPU-only machines
)
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True)
