# TextViT-S on 32x128 word images, 4x4 patches (8x32 tokens + [cls]).
# pos_grid='true': sin-cos table on the real 8x32 grid; 'legacy' = the authors' 16x16 table.
backbone = dict(type='mmpretrain.TextViT', arch='s', img_size=(32, 128), patch_size=4, pos_grid='true', out_type='raw')
