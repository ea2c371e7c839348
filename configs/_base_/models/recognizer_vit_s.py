_base_ = ['vit_s_backbone.py']
dictionary = dict(
    type='Dictionary',
    # 0-9 a-z A-Z + 32 ASCII punctuation; EOS 94, PADDING 95, UNKNOWN 96 (97 classes); BOS 97 input-only
    dict_file='{{ fileDirname }}/../../../dicts/english_digits_letters_symbols.txt',
    with_start=False, with_end=True, with_padding=True, with_unknown=True)
model = dict(
    type='ViTRecognizer',
    data_preprocessor=dict(type='TextRecogDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, bgr_to_rgb=True),
    # the authors pass drop 0.1 / attn_drop 0.1 / drop_path 0.1 but their encoder ignores them;
    # we default to the same effective setting (0) and expose the three rates
    backbone=dict(_base_.backbone, type='mmpretrain.TextViT', drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0,
                  frozen_stages=0),
    encoder=dict(type='LinearNorm', in_channels=384, out_channels=512),
    decoder=dict(
        type='ViTTransformerDecoder', n_layers=6, d_model=512, n_head=8, d_k=64, d_v=64, d_inner=256, dropout=0.1,
        max_seq_len=25, beam_width=0,  # the authors' --beam_width (0/1 = greedy)
        dictionary=dictionary,
        module_loss=dict(type='SmoothCEModuleLoss', label_smoothing=0.0, reduction='mean'),
        postprocessor=dict(type='AttentionPostprocessor')),
)
