"""Pretraining algorithms (TextMAE, MMS, LMIM): parity with the authors, masks from the data, training, modes."""
import argparse
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample
from PIL import Image

from lmim_mm.converters.authors import convert_lmim_pretrain, convert_maerec_mae
from lmim_mm.datasets.transforms.mask_transform import MixedMaskGenerator, RandomPatchMaskGenerator
from lmim_mm.evaluation.metrics.reconstruction import ReconstructionLossMetric
from lmim_mm.models.selfsup import LMIM, TextMAE
from lmim_reference.parity_pretrain import check_pretrain_fixture, lmim_kwargs
from lmim_reference.pretrain import ReferenceLMIM

PREPROCESSOR = dict(type='mmpretrain.SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
TINY_VIT = dict(type='mmpretrain.TextViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2))
REPO = Path(__file__).resolve().parents[2]


def tiny(algorithm: str, **kwargs):
    """A tiny TextMAE / LMIM."""
    if algorithm == 'LMIM':
        neck = dict(type='AlignmentDecoder', in_channels=32, embed_dim=32, depth=1, num_heads=2, ffn_dim=64,
                    dropout=0.0)
        return LMIM(backbone=TINY_VIT, neck=neck, head=dict(type='LMIMHead'), data_preprocessor=PREPROCESSOR,
                    **kwargs)
    neck = dict(type='TextMAEDecoder', in_channels=32, embed_dim=32, depth=1, num_heads=2)
    return TextMAE(backbone=TINY_VIT, neck=neck, head=dict(type='TextMAEHead'), data_preprocessor=PREPROCESSOR,
                   **kwargs)


@pytest.fixture(scope='module')
def words(real_data_dir: Path) -> torch.Tensor:
    """Four real word images, uint8 (4, 3, 32, 128) as the data pipeline packs them."""
    paths = sorted((real_data_dir / 'iiit5k_test' / 'IMG').iterdir())[:4]
    images = [np.asarray(Image.open(p).convert('RGB').resize((128, 32), Image.BICUBIC)) for p in paths]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


#: The mask transform of each algorithm's pipeline (MMS: TextMAE with mixed masks).
MASKS = dict(LMIM=RandomPatchMaskGenerator(0.8), TextMAE=RandomPatchMaskGenerator(0.75), MMS=MixedMaskGenerator())


def batch(algorithm: str, words: torch.Tensor, seed: int = 0) -> dict:
    """What the dataloader yields: LMIM gets [clean, guidance] views, MAE one view; masks in the samples."""
    inputs = [words, words.flip(1)] if algorithm == 'LMIM' else words
    masks = torch.from_numpy(MASKS[algorithm].draw(len(words), np.random.default_rng(seed)))
    return {'inputs': inputs, 'data_samples': [DataSample(mask=mask) for mask in masks]}


@pytest.fixture(scope='module')
def fixture(fixtures_dir):
    return torch.load(fixtures_dir / 'lmim_pretrain_seed0.pt', weights_only=True)


def assert_within_tolerance(report):
    failed = {k: v for k, v in report.items() if not v['max_abs_err'] <= v['tol']}
    assert not failed, failed


# ---------------------------------------------------------------- parity with the authors
def test_lmim_reproduces_authors_fixture(fixture):
    report = check_pretrain_fixture(fixture)
    assert set(report) == {'loss', 'loss_recon', 'loss_cls', 'pred', 'target', 'cls_masked', 'cls_guidance',
                           'teacher_checkpoint'}
    assert_within_tolerance(report)


def test_reference_reproduces_authors_fixture(fixture):
    ref = ReferenceLMIM(**fixture['config'], decoder_ffn_dim=fixture['decoder_ffn_dim'])
    ref.load_state_dict(fixture['official_state_dict'])
    out = ref.eval()(fixture['imgs'], fixture['imgs_guidance'], fixture['mask'])
    for name, expected in fixture['expected'].items():
        torch.testing.assert_close(out[name], expected, atol=1e-5, rtol=0, msg=name)


def test_parity_check_handles_other_sizes():
    """A fixture made by the reference at other sizes (ratio 0.6, FFN 40) passes the same check."""
    torch.manual_seed(0)
    config = dict(img_size=(32, 128), patch_size=4, embed_dim=48, depth=1, num_heads=3, decoder_embed_dim=24,
                  decoder_depth=3, decoder_num_heads=2, mlp_ratio=2.0)
    ref = ReferenceLMIM(**config, decoder_ffn_dim=40, mask_ratio=0.6).eval()
    for param in ref.parameters():  # move away from the zero / identity init
        param.data.add_(torch.randn_like(param) * 0.02)
    imgs, guidance = torch.randn(2, 3, 32, 128), torch.randn(2, 3, 32, 128)
    with torch.no_grad():
        expected = ref(imgs, guidance)
    teacher = {k.split('.', 1)[1]: v for k, v in ref.state_dict().items() if k.startswith('model_maeenc_momentum.')}
    made = dict(config=config, decoder_ffn_dim=40, mask_ratio=0.6, official_state_dict=ref.state_dict(),
                teacher_mae_checkpoint={'model': {**teacher, 'mask_token': torch.zeros(1)}}, imgs=imgs,
                imgs_guidance=guidance, mask=expected['mask'], expected=expected)
    assert int(expected['mask'][0].sum()) == 256 - int(256 * 0.4)
    assert_within_tolerance(check_pretrain_fixture(made))


def test_trainable_parameters_at_full_size():
    model = LMIM(backbone=dict(type='mmpretrain.TextViT', arch='s'), neck=dict(type='AlignmentDecoder'),
                 head=dict(type='LMIMHead'))
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 30_314_368
    assert list(model.teacher.parameters()) == []
    assert sum(b.numel() for n, b in model.teacher.named_buffers() if n != 'pos_embed') == 21_313_536


# ---------------------------------------------------------------- the frozen teacher
def test_teacher_is_frozen_in_eval_mode_and_outside_the_optimizer(words):
    torch.manual_seed(0)
    model = tiny('LMIM')
    optim_wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)))
    optimized = {id(p) for group in optim_wrapper.optimizer.param_groups for p in group['params']}
    assert optimized == {id(p) for p in model.parameters()}
    assert not optimized & {id(t) for t in model.teacher.state_dict(keep_vars=True).values()}
    teacher_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    student_before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    model.train()
    assert model.backbone.training and not any(m.training for m in model.teacher.modules())
    for _ in range(3):
        model.train_step(batch('LMIM', words), optim_wrapper)
    assert all(torch.equal(v, teacher_before[k]) for k, v in model.teacher.state_dict().items())
    assert not torch.equal(model.backbone.layers[0].attn.qkv.weight, student_before['layers.0.attn.qkv.weight'])
    assert not any(m.training for m in model.teacher.modules())


def test_teacher_momentum_is_an_ema_of_the_student(words):
    model = tiny('LMIM', teacher_momentum=0.9)
    teacher = model.teacher.state_dict()['layers.0.ffn.layers.0.0.weight'].clone()
    with torch.no_grad():
        model.backbone.layers[0].ffn.layers[0][0].weight.add_(1.0)
    student = model.backbone.layers[0].ffn.layers[0][0].weight.detach().clone()
    model.train()
    model.loss(**model.data_preprocessor(batch('LMIM', words), True))
    torch.testing.assert_close(model.teacher.layers[0].ffn.layers[0][0].weight, 0.9 * teacher + 0.1 * student)


def test_authors_teacher_is_refused_with_the_command_that_converts_it(fixture, tmp_path, monkeypatch):
    """MAERec's file (the authors' --teacher_weight) names its conversion; converted, it loads by init_cfg."""
    path = tmp_path / 'maerec_pretrain.pth'
    torch.save({**fixture['teacher_mae_checkpoint'], 'epoch': 19, 'args': argparse.Namespace(mask_ratio=0.75)}, path)
    init_cfg = dict(type='Pretrained', checkpoint=str(path), prefix='backbone.')
    model = LMIM(**lmim_kwargs(fixture['config'], fixture['decoder_ffn_dim']), teacher_init_cfg=init_cfg)
    with pytest.raises(ValueError, match=f"{re.escape(str(path))} is one of the authors' checkpoints") as error:
        model.init_weights()
    command = str(error.value).split('convert it first: ')[1]
    converted = tmp_path / 'maerec_pretrain_mm.pth'
    assert command == f'python tools/model_converters/maerec_mae_to_mm.py {path} {converted} --prefix backbone.'
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, 'argv', command.split()[1:])
    runpy.run_path(sys.argv[0], run_name='__main__')
    model = LMIM(**lmim_kwargs(fixture['config'], fixture['decoder_ffn_dim']),
                 teacher_init_cfg=dict(init_cfg, checkpoint=str(converted)))
    model.init_weights()
    expected, _ = convert_maerec_mae(fixture['teacher_mae_checkpoint'])
    assert all(torch.equal(model.teacher.state_dict()[k], v) for k, v in expected.items())
    assert not torch.equal(model.backbone.cls_token, model.teacher.cls_token)
    state_dict, _ = convert_lmim_pretrain(fixture['official_state_dict'])
    assert set(model.state_dict()) == set(state_dict)


def test_teacher_from_an_mae_run_and_student_from_the_teacher(words, tmp_path):
    """An lmim_mm TextMAE checkpoint (``backbone.*``) is a teacher as it is; the student can start from it."""
    torch.manual_seed(0)
    mae = tiny('TextMAE')
    mae.init_weights()
    path = tmp_path / 'iter_300.pth'
    torch.save({'state_dict': mae.state_dict(), 'meta': {}}, path)
    model = tiny('LMIM', init_student_from_teacher=True,
                 teacher_init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    model.init_weights()
    for part in (model.teacher, model.backbone):
        assert all(torch.equal(value, mae.backbone.state_dict()[key]) for key, value in part.state_dict().items())
    assert all(p.requires_grad for n, p in model.backbone.named_parameters() if n != 'pos_embed')  # kept apart
    with pytest.raises(KeyError, match=f'{re.escape(str(path))} has no keys under prefix .teacher..'):
        tiny('LMIM', teacher_init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='teacher.')).init_weights()


# ---------------------------------------------------------------- training and modes
@pytest.mark.parametrize('algorithm', ['TextMAE', 'MMS', 'LMIM'])
def test_overfits_a_fixed_batch(algorithm, words):
    torch.manual_seed(0)
    model = tiny('LMIM' if algorithm == 'LMIM' else 'TextMAE')
    optim_wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.95), weight_decay=0.05)))
    model.train()
    data = batch(algorithm, words)
    losses = [float(model.train_step(data, optim_wrapper)['loss'].detach()) for _ in range(50)]
    assert losses[-1] < 0.5 * losses[0], (losses[0], losses[-1])


@pytest.mark.parametrize('algorithm', ['TextMAE', 'LMIM'])
def test_predict_returns_per_sample_losses_and_pictures(algorithm, words):
    model = tiny(algorithm).eval()
    data = batch(algorithm, words)
    samples = model.val_step(data)
    names = {'loss', 'loss_recon'} | ({'loss_align'} if algorithm == 'LMIM' else set())
    assert len(samples) == 4 and all(set(s.pred_loss) == names for s in samples)
    per_sample = torch.stack([s.pred_loss['loss'] for s in samples])
    assert per_sample.shape == (4, ) and bool((per_sample > 0).all())
    again = torch.stack([s.pred_loss['loss'] for s in model.val_step(data)])
    assert torch.equal(per_sample, again)  # the masks of the data samples
    with torch.no_grad():
        batch_losses = model(**model.data_preprocessor(data, False), mode='loss')
    torch.testing.assert_close(per_sample.mean(), sum(batch_losses.values()))
    picture = samples[0].pred_similarity if algorithm == 'LMIM' else samples[0].pred_image
    assert picture.shape == ((256, ) if algorithm == 'LMIM' else (3, 32, 128))

    metric = ReconstructionLossMetric()
    metric.process(data, [s.to_dict() for s in samples])
    result = metric.compute_metrics(metric.results)
    assert result['loss'] == pytest.approx(float(per_sample.mean()), rel=1e-6)


def test_mae_picture_of_a_perfect_prediction_is_the_input(monkeypatch, words):
    model = tiny('TextMAE').eval()
    data = model.data_preprocessor(batch('TextMAE', words), False)

    class PerfectNeck(nn.Module):
        def forward(self, latent, ids_restore):
            return model.head.construct_target(data['inputs'])

    monkeypatch.setattr(model, 'neck', PerfectNeck())
    samples = model(**data, mode='predict')
    torch.testing.assert_close(torch.stack([s.pred_image for s in samples]), data['inputs'], atol=1e-4, rtol=1e-4)


def test_lmim_similarity_is_one_for_a_perfect_prediction(monkeypatch, words):
    model = tiny('LMIM').eval()
    data = model.data_preprocessor(batch('LMIM', words), False)
    samples = model(**data, mode='predict')
    cosine = torch.stack([s.pred_similarity for s in samples])
    assert cosine.shape == (4, 256) and bool((cosine.abs() <= 1 + 1e-6).all()) and bool((cosine < 0.99).any())
    target = model.head.construct_target(model.teacher(data['inputs'][0])[0]).detach()

    class PerfectNeck(nn.Module):
        def forward(self, latent, ids_restore, memory):
            return target

    monkeypatch.setattr(model, 'neck', PerfectNeck())
    samples = model(**data, mode='predict')
    torch.testing.assert_close(torch.stack([s.pred_similarity for s in samples]), torch.ones(4, 256))


def test_tensor_mode_gives_student_tokens(words):
    model = tiny('LMIM').eval()
    data = model.data_preprocessor(batch('LMIM', words), False)
    feats = model(data['inputs'], mode='tensor')
    assert feats[0].shape == (4, 257, 32)
    with pytest.raises(ValueError, match='2 image view'):
        model.loss(data['inputs'][0], data['data_samples'])


def test_masks_must_come_with_the_data(words):
    model = tiny('TextMAE')
    data = model.data_preprocessor(batch('TextMAE', words), True)
    with pytest.raises(ValueError, match="every data sample needs a mask; put a mask transform"):
        model.loss(data['inputs'], [DataSample() for _ in range(4)])
    with pytest.raises(TypeError, match='mask must be bool'):
        model.loss(data['inputs'], [DataSample(mask=s.mask.float()) for s in data['data_samples']])


def test_pipeline_blockwise_masks_are_the_masks_the_model_uses(real_data_dir, monkeypatch):
    """The demo LMIM config with a blockwise mask transform: the backbone masks exactly the pipeline's
    masks (on the model-side drawing that came before, the model drew its own random masks)."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / 'lmim_tiny.py'))
    steps = cfg.train_dataloader.dataset.pipeline
    steps[1] = dict(type='BlockwiseMaskGenerator', ratio=0.6, grid_size=cfg.tiny_grid)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        pipeline = Compose([TRANSFORMS.build(step) for step in steps])
        model = MODELS.build(cfg.model)
    paths = sorted((real_data_dir / 'iiit5k_test' / 'IMG').iterdir())[:4]
    np.random.seed(0)
    samples = [pipeline(dict(img=np.asarray(Image.open(p).convert('RGB'))[..., ::-1].copy(), img_path=str(p)))
               for p in paths]
    used = []
    forward_masked = model.backbone.forward_masked
    monkeypatch.setattr(model.backbone, 'forward_masked',
                        lambda x, mask, *args, **kwargs: used.append(mask) or forward_masked(x, mask, *args, **kwargs))
    optim_wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='AdamW', lr=1e-3)))
    model.train_step(default_collate(samples), optim_wrapper)
    expected = torch.stack([sample['data_samples'].mask for sample in samples])
    assert len(used) == 1 and torch.equal(used[0], expected)
    assert expected.sum(1).tolist() == [39] * 4  # 64 - int(64 * 0.4) of the 4 x 16 demo tokens, in blocks:
    grid = expected.view(4, *cfg.tiny_grid)
    assert ((grid[:, 1:] != grid[:, :-1]).sum() + (grid[:, :, 1:] != grid[:, :, :-1]).sum()) / 4 < 30
