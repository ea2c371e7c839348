"""The LMIM recognizer as an mmocr EncoderDecoderRecognizer, on real IIIT5K images."""
import copy
from pathlib import Path

import mmocr.datasets  # noqa: F401  (registers mmocr's transforms)
import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmocr.registry import MODELS, TRANSFORMS

import lmim_mm.models.backbones.text_vit  # noqa: F401  (registers TextViT)
import lmim_mm.models.necks.linear_norm  # noqa: F401  (registers LinearNorm)
import lmim_mm.models.textrecog  # noqa: F401  (registers ViTTransformerDecoder, SmoothCEModuleLoss)

REPO = Path(__file__).resolve().parents[2]
ENGLISH_DICT = str(REPO / 'dicts' / 'english_digits_letters_symbols.txt')
CHINESE_DICT = str(REPO / 'dicts' / 'chinese_fudanvi.txt')
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 32), keep_ratio=False),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='PackTextRecogInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]


def recognizer_cfg(dict_file: str = ENGLISH_DICT, max_seq_len: int = 25, full_size: bool = False,
                   dropout: float = 0.1, beam_width: int = 0, module_loss: dict = None) -> dict:
    """The recognizer config; tiny unless ``full_size`` (ViT-S, 6 x 512-wide decoder layers)."""
    if full_size:
        backbone, width, decoder = dict(arch='s'), 384, dict()
    else:
        backbone = dict(arch=dict(embed_dims=32, num_layers=1, num_heads=2))
        width, decoder = 32, dict(n_layers=1, d_model=32, n_head=2, d_k=16, d_v=16, d_inner=32)
    d_model = decoder.get('d_model', 512)
    return dict(
        type='EncoderDecoderRecognizer',
        data_preprocessor=dict(type='TextRecogDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3,
                               bgr_to_rgb=True),
        backbone=dict(type='mmpretrain.TextViT', out_type='raw', **backbone),
        encoder=dict(type='LinearNorm', in_channels=width, out_channels=d_model),
        decoder=dict(
            type='ViTTransformerDecoder', dropout=dropout, max_seq_len=max_seq_len, beam_width=beam_width,
            dictionary=dict(type='Dictionary', dict_file=dict_file, with_start=False, with_end=True,
                            with_padding=True, with_unknown=True),
            module_loss=module_loss or dict(type='CEModuleLoss', reduction='mean'),
            postprocessor=dict(type='AttentionPostprocessor'), **decoder))


def build(cfg: dict) -> torch.nn.Module:
    with DefaultScope.overwrite_default_scope('mmocr'):
        return MODELS.build(copy.deepcopy(cfg))


@pytest.fixture(scope='module')
def batch(real_data_dir):
    """Eight IIIT5K test words through mmocr's loading pipeline, collated."""
    root = real_data_dir / 'iiit5k_test'
    with DefaultScope.overwrite_default_scope('mmocr'):
        pipeline = Compose([TRANSFORMS.build(copy.deepcopy(t)) for t in PIPELINE])
        samples = [pipeline(dict(img_path=str(root / 'IMG' / f'{i}.png'),
                                 instances=[dict(text=(root / 'label' / f'{i}.txt').read_text().strip())]))
                   for i in range(1, 9)]
    return pseudo_collate(samples)


def words(batch) -> list:
    return [s.gt_text.item for s in batch['data_samples']]


def test_class_ids_are_the_authors(fixtures_dir):
    fixture = torch.load(fixtures_dir / 'lmim_recognizer_seed0.pt', weights_only=True)
    decoder = build(recognizer_cfg()).decoder
    vocab = decoder.dictionary
    assert ''.join(vocab.dict[:94]) == fixture['charset']
    specials = (vocab.end_idx, vocab.padding_idx, vocab.unknown_idx, vocab.start_idx)
    assert vocab.num_classes == 97 and specials == (94, 95, 96, None)
    assert decoder.transformer.bos_idx == fixture['special_ids']['bos'] == 97
    assert decoder.transformer.trg_word_emb.num_embeddings == 98


def test_decoder_rejects_a_dictionary_with_a_start_class():
    cfg = recognizer_cfg()
    cfg['decoder']['dictionary']['with_start'] = True
    with pytest.raises(ValueError, match='with_start=False'):
        build(cfg)


@pytest.mark.parametrize('dict_file,max_seq_len,expected', [(ENGLISH_DICT, 25, 35_791_457),
                                                            (CHINESE_DICT, 40, 43_827_457)])
def test_full_size_parameter_count(dict_file, max_seq_len, expected):
    model = build(recognizer_cfg(dict_file, max_seq_len, full_size=True))
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == expected


def test_loss_is_cross_entropy_over_characters_and_eos(batch):
    model = build(recognizer_cfg(dropout=0.0)).train()
    data = model.data_preprocessor(copy.deepcopy(batch), training=True)
    assert data['inputs'].shape == (8, 3, 32, 128) and data['inputs'].abs().max() <= 1
    loss = model.loss(**data)['loss_ce']
    vocab, transformer = model.decoder.dictionary, model.decoder.transformer
    memory = model.encoder(model.extract_feat(data['inputs']))
    manual = []
    for i, word in enumerate(words(batch)):
        target = torch.tensor(vocab.str2idx(word) + [vocab.end_idx])
        tokens = torch.cat([torch.tensor([transformer.bos_idx]), target[:-1]])[None]
        logits = transformer(tokens, memory[i:i + 1])[0]
        manual.append(F.cross_entropy(logits, target, reduction='none'))
    torch.testing.assert_close(loss, torch.cat(manual).mean())
    padded = data['data_samples'][0].gt_text.padded_indexes
    assert padded.tolist() == vocab.str2idx(words(batch)[0]) + [94] + [95] * (25 - len(words(batch)[0]) - 1)


def test_teacher_forcing_stops_at_the_longest_target(batch):
    """Steps after the batch's longest word + EOS are not computed (zero logits, ignored by the loss);
    the computed ones equal a run over all ``max_seq_len`` steps."""
    model = build(recognizer_cfg(dropout=0.0)).train()
    data = model.data_preprocessor(copy.deepcopy(batch), training=True)
    model.decoder.module_loss.get_targets(data['data_samples'])
    memory = model.encoder(model.extract_feat(data['inputs']))
    logits = model.decoder.forward_train(out_enc=memory, data_samples=data['data_samples'])
    steps = max(len(w) for w in words(batch)) + 1
    assert logits.shape == (8, 25, 97) and steps < 25
    assert not logits[:, steps:].any() and logits[:, steps - 1].abs().sum(-1).gt(0).all()
    transformer = model.decoder.transformer
    targets = torch.stack([s.gt_text.padded_indexes for s in data['data_samples']])
    tokens = torch.cat([torch.full((8, 1), transformer.bos_idx), targets[:, :-1]], dim=1)
    lengths = torch.tensor([len(w) + 1 for w in words(batch)])
    torch.testing.assert_close(logits[:, :steps], transformer(tokens, memory, lengths)[:, :steps])


def test_predict_greedy_and_beam(batch):
    torch.manual_seed(0)
    greedy = build(recognizer_cfg()).eval()
    beams = {width: build(recognizer_cfg(beam_width=width)).eval() for width in (1, 3)}
    results = {}
    for width, model in [(0, greedy), *beams.items()]:
        model.load_state_dict(greedy.state_dict())
        with torch.no_grad():
            results[width] = model.test_step(copy.deepcopy(batch))
    for samples in results.values():
        assert len(samples) == 8
        for sample, word in zip(samples, words(batch)):
            assert sample.gt_text.item == word
            pred = sample.pred_text
            assert isinstance(pred.item, str) and len(pred.score) == len(pred.item.replace('<UKN>', '?'))
            assert all(0 < s <= 1 for s in pred.score)
    assert [s.pred_text.item for s in results[1]] == [s.pred_text.item for s in results[0]]
    for one, zero in zip(results[1], results[0]):
        torch.testing.assert_close(torch.tensor(one.pred_text.score), torch.tensor(zero.pred_text.score))


def test_label_smoothing_loss(batch):
    loss_cfg = dict(type='SmoothCEModuleLoss', reduction='mean', label_smoothing=0.1)
    smooth = build(recognizer_cfg(dropout=0.0, module_loss=loss_cfg)).train()
    plain = build(recognizer_cfg(dropout=0.0)).train()
    plain.load_state_dict(smooth.state_dict())
    data = smooth.data_preprocessor(copy.deepcopy(batch), training=True)
    loss_smooth = smooth.loss(**copy.deepcopy(data))['loss_ce']
    loss_plain = plain.loss(**data)['loss_ce']
    assert smooth.decoder.module_loss.loss_ce.label_smoothing == 0.1
    assert not torch.isclose(loss_smooth, loss_plain) and torch.isfinite(loss_smooth)


def test_tiny_recognizer_overfits_a_batch(batch):
    torch.manual_seed(0)
    model = build(recognizer_cfg()).train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=2e-3))
    losses = [model.train_step(copy.deepcopy(batch), optim)['loss_ce'].item() for _ in range(50)]
    assert losses[-1] < losses[0] / 2, losses


# ColumnCTCDecoder and the recognizer's auxiliary decoder (joint CTC-attention)
CTC_DICTIONARY = dict(type='Dictionary', dict_file=ENGLISH_DICT, with_start=False, with_end=True,
                      with_padding=True, with_unknown=True)


def ctc_decoder(**kwargs) -> torch.nn.Module:
    with DefaultScope.overwrite_default_scope('mmocr'):
        cfg = dict(type='ColumnCTCDecoder', in_channels=8, dictionary=CTC_DICTIONARY, grid_size=(2, 4))
        return MODELS.build(copy.deepcopy(dict(cfg, **kwargs)))


def joint_cfg(weight: float = 1.0) -> dict:
    cfg = recognizer_cfg(dropout=0.0)
    return dict(cfg, type='ViTRecognizer', aux_decoder=dict(type='ColumnCTCDecoder', in_channels=32),
                aux_loss_weight=weight)


def test_columns_are_averaged_and_read_left_to_right():
    decoder = ctc_decoder(steps_per_column=2)
    tokens = torch.randn(3, 1 + 2 * 4, 8)  # [cls] + a 2 x 4 grid, row-major
    logits = decoder.forward_train(None, tokens)
    assert logits.shape == (3, 4 * 2, 97)
    columns = tokens[:, 1:].reshape(3, 2, 4, 8).mean(1)
    expected = decoder.classifier(columns).reshape(3, 4, 2, 97).reshape(3, 8, 97)
    torch.testing.assert_close(logits, expected)
    # a change in column 2 moves steps 4 and 5 only
    moved = tokens.clone()
    moved[:, 1 + 2] += 1.0
    changed = (decoder.forward_train(None, moved) - logits).abs().sum((0, 2)) > 0
    assert changed.tolist() == [False, False, False, False, True, True, False, False]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match='padding class'):
        ctc_decoder(dictionary=dict(CTC_DICTIONARY, with_padding=False))
    with pytest.raises(ValueError, match='steps_per_column'):
        ctc_decoder(steps_per_column=0)
    with pytest.raises(ValueError, match=r'grid \(2, 4\)'):
        ctc_decoder().forward_train(None, torch.randn(1, 5, 8))


def test_aux_loss_is_added_weighted_and_trains_the_encoder(batch):
    torch.manual_seed(0)
    model = build(joint_cfg(weight=1.0)).train()
    assert model.aux_decoder.grid_size == tuple(model.backbone.grid_size)
    assert model.aux_decoder.dictionary is model.decoder.dictionary
    inputs = model.data_preprocessor(copy.deepcopy(batch), training=True)
    losses = model.loss(inputs['inputs'], inputs['data_samples'])
    assert set(losses) == {'loss_ce', 'aux_loss_ctc'} and torch.isfinite(losses['aux_loss_ctc'])
    model.aux_loss_weight = 2.5
    doubled = model.loss(inputs['inputs'], inputs['data_samples'])
    torch.testing.assert_close(doubled['aux_loss_ctc'], 2.5 * losses['aux_loss_ctc'])
    torch.testing.assert_close(doubled['loss_ce'], losses['loss_ce'])
    model.zero_grad()
    doubled['aux_loss_ctc'].backward()
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.decoder.parameters())


def test_prediction_ignores_the_aux_decoder(batch):
    torch.manual_seed(0)
    joint = build(joint_cfg()).eval()
    plain = build(recognizer_cfg()).eval()
    plain.load_state_dict({k: v for k, v in joint.state_dict().items() if not k.startswith('aux_decoder.')})
    inputs = joint.data_preprocessor(copy.deepcopy(batch), training=False)
    with torch.no_grad():
        ours = [s.pred_text.item for s in joint.predict(inputs['inputs'], copy.deepcopy(inputs['data_samples']))]
        theirs = [s.pred_text.item for s in plain.predict(inputs['inputs'], copy.deepcopy(inputs['data_samples']))]
    assert ours == theirs


def test_ctc_decoder_fits_a_batch_alone(batch):
    """The CTC path learns: 60 steps on eight words cut its loss by more than half."""
    torch.manual_seed(0)
    model = build(joint_cfg()).train()
    inputs = model.data_preprocessor(copy.deepcopy(batch), training=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        loss = model.loss(inputs['inputs'], copy.deepcopy(inputs['data_samples']))['aux_loss_ctc']
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first
