# Shared settings of the demo (`make demo`): a ViT-Tiny/8 that trains on a 2-core CPU in minutes.
# 32x128 images, 8x8 patches (4x16 = 64 tokens + [cls]), width 128, 3 blocks, 4 heads (a GPU sweep of
# the recognizer read as many words with 3 blocks as with 4 at the demo's budget, README "Demo"). The paper's
# ViT-S/4 (256 tokens, width 384, 12 blocks) runs LMIM at ~1.5 images/s on such a CPU, far too slow
# for a 30-minute demo; this model is ~30x cheaper per image and keeps every part of the method.
demo_root = 'work_dirs/demo'
data_root = f'{demo_root}/data'
real_root = '../shared/data/real_benchmarks'
# stem='conv': early convolutions (three 3x3 stride-2 convolutions, BatchNorm, ReLU) instead of the
# linear patch projection. A plain ViT-Tiny/8 (linear or patch-local hMLP stem) stayed on the
# recognition plateau for 800 steps at batch 32 on the varied words, with an attention decoder and
# with CTC alike, where a small CNN + CTC read 17% of them after 600 steps. Masked pretraining stays
# exact: TextViT blanks the masked patches' pixels before a stem whose receptive fields overlap.
# stem_depth=2: two 3x3 convolutions per stage (the second of stride 1). On held-out real train words the
# recognizer leaves the plateau about 1000 steps earlier (docs/en/results.md, "The demo recognizer's recipe").
tiny_backbone = dict(type='mmpretrain.TextViT', arch=dict(embed_dims=128, num_layers=3, num_heads=4),
                     img_size=(32, 128), patch_size=8, pos_grid='true', out_type='raw', stem='conv', stem_depth=2)
tiny_grid = (4, 16)
train_iters = 4000
checkpoint_interval = 4000
