"""Pictures of pretraining (masks, reconstructions, LMIM similarities) and of recognition samples (through the
runner's visualizer to every backend)."""
import copy
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import Compose
from mmengine.evaluator import Evaluator
from mmengine.registry import VISBACKENDS, DefaultScope
from mmengine.runner import Runner
from mmengine.structures import LabelData
from mmengine.visualization import BaseVisBackend
from mmocr.registry import METRICS, TRANSFORMS, VISUALIZERS
from mmocr.structures import TextRecogDataSample
from mmpretrain.structures import DataSample
from PIL import Image

import lmim_mm.models.textrecog  # noqa: F401  (registers the recognizer parts)
from lmim_mm.datasets.transforms.mask_transform import RandomPatchMaskGenerator
from lmim_mm.engine.hooks.visualization import PretrainVisualizationHook, RecognitionSamplesHook, first_samples
from lmim_mm.models.selfsup import LMIM, TextMAE
from lmim_mm.visualization import ScoredTextRecogVisualizer
from lmim_mm.visualization.images import BLACK, GREEN, LINE_HEIGHT, RED, letterbox, upscale

PAD = 4  # compose()'s default spacing
PREPROCESSOR = dict(type='mmpretrain.SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
TINY_VIT = dict(type='mmpretrain.TextViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2))
REPO = Path(__file__).resolve().parents[2]
ENGLISH_DICT = str(REPO / 'dicts' / 'english_digits_letters_symbols.txt')


def tiny_pretrainer(algorithm: str) -> nn.Module:
    if algorithm == 'LMIM':
        neck = dict(type='AlignmentDecoder', in_channels=32, embed_dim=32, depth=1, num_heads=2, ffn_dim=64)
        return LMIM(backbone=TINY_VIT, neck=neck, head=dict(type='LMIMHead'), data_preprocessor=PREPROCESSOR)
    neck = dict(type='TextMAEDecoder', in_channels=32, embed_dim=32, depth=1, num_heads=2)
    return TextMAE(backbone=TINY_VIT, neck=neck, head=dict(type='TextMAEHead'), data_preprocessor=PREPROCESSOR)


@pytest.fixture(scope='module')
def words_bgr(real_data_dir: Path) -> torch.Tensor:
    """Eight real IIIT5K words, uint8 BGR (8, 3, 32, 128), as mmcv loading + packing gives them."""
    paths = [real_data_dir / 'iiit5k_test' / 'IMG' / f'{i}.png' for i in range(1, 9)]
    images = [np.asarray(Image.open(p).convert('RGB').resize((128, 32), Image.BICUBIC))[..., ::-1] for p in paths]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def masks(num: int, ratio: float, grid=(8, 32)) -> torch.Tensor:
    """``num`` random patch masks, bool (num, L), as the pipeline's mask transform draws them."""
    return torch.from_numpy(RandomPatchMaskGenerator(ratio, grid).draw(num, np.random.default_rng(0)))


class PackedWords(torch.utils.data.Dataset):
    """Packed pretraining samples with a fixed mask each (ratio 0.8 for LMIM, 0.75 for MAE): one view,
    or [clean, guidance] with the guidance upside down."""

    def __init__(self, images: torch.Tensor, two_views: bool) -> None:
        self.images, self.two_views = images, two_views
        self.masks = masks(len(images), 0.8 if two_views else 0.75)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        img = self.images[index]
        return {'inputs': [img, img.flip(1)] if self.two_views else img,
                'data_samples': DataSample(mask=self.masks[index])}


def pretrain_runner(model: nn.Module, words: torch.Tensor, work_dir: Path, train_cfg: dict, hook: dict) -> Runner:
    loader = dict(dataset=PackedWords(words, isinstance(model, LMIM)), batch_size=4, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'))
    return Runner(model=model, work_dir=str(work_dir), train_dataloader=loader, train_cfg=train_cfg,
                  optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
                  default_hooks=dict(checkpoint=None, logger=dict(type='LoggerHook', interval=1)),
                  custom_hooks=[dict(type='PretrainVisualizationHook', **hook)], default_scope='mmpretrain',
                  visualizer=dict(type='Visualizer', name=f'{type(model).__name__}_{work_dir.name}',
                                  vis_backends=[dict(type='LocalVisBackend'), dict(type='RecordingVisBackend')]),
                  randomness=dict(seed=0), experiment_name=f'{type(model).__name__}_{work_dir.name}')


def read_rgb(path: Path) -> np.ndarray:
    assert path.is_file(), f'{path} not written; folder holds {sorted(p.name for p in path.parent.iterdir())}'
    return cv2.imread(str(path))[..., ::-1]


def greyed_tokens(picture: np.ndarray, row: int, patch: int = 8) -> np.ndarray:
    """(8, 32) bool: tokens whose pixels differ between the input and mask panels of a row."""
    changed = (panel(picture, row, 1) != panel(picture, row, 0)).any(-1)
    return changed.reshape(8, patch, 32, patch).any((1, 3))


def panel(picture: np.ndarray, row: int, col: int, size=(64, 256)) -> np.ndarray:
    """Panel (row, col) of a pretraining picture: title line first, then one row per sample."""
    top = PAD + LINE_HEIGHT + PAD + row * (size[0] + PAD)
    left = PAD + col * (size[1] + PAD)
    return picture[top:top + size[0], left:left + size[1]]


# ---------------------------------------------------------------- pretraining pictures
def test_lmim_pictures_per_epoch(words_bgr, tmp_path):
    torch.manual_seed(0)
    runner = pretrain_runner(tiny_pretrainer('LMIM'), words_bgr, tmp_path, dict(by_epoch=True, max_epochs=2),
                             dict(num_samples=3))
    runner.train()
    local, = tmp_path.glob('*/vis_data/vis_image')  # the runner's visualizer (LocalVisBackend)
    assert sorted(p.name for p in local.iterdir()) == ['epoch_1.png', 'epoch_2.png']
    picture = read_rgb(local / 'epoch_2.png')
    assert picture.shape == (LINE_HEIGHT + 3 * 64 + 5 * PAD, 4 * 256 + 5 * PAD, 3)
    rgb = words_bgr.flip(1).permute(0, 2, 3, 1).numpy()
    for row in range(3):  # input denormalised to RGB; guidance view = the same image upside down (BGR flip)
        np.testing.assert_array_equal(panel(picture, row, 0), upscale(rgb[row], 2))
        np.testing.assert_array_equal(panel(picture, row, 3), upscale(rgb[row][::-1], 2))
    # mask: 205 of 256 patches (ratio 0.8) greyed, the same in every picture
    masked = greyed_tokens(picture, 0)
    assert masked.sum() == 205
    first = read_rgb(local / 'epoch_1.png')
    np.testing.assert_array_equal(panel(first, 0, 1), panel(picture, 0, 1))
    # heat map: white exactly on the visible tokens
    white = (panel(picture, 0, 2) == 255).all(-1).reshape(8, 8, 32, 8).all((1, 3))
    np.testing.assert_array_equal(white, ~masked)


def test_mae_pictures_by_iteration(words_bgr, tmp_path):
    torch.manual_seed(0)
    runner = pretrain_runner(tiny_pretrainer('TextMAE'), words_bgr, tmp_path, dict(by_epoch=False, max_iters=3),
                             dict(num_samples=2, interval_iters=2))
    runner.train()
    local, = tmp_path.glob('*/vis_data/vis_image')
    assert sorted(p.name for p in local.iterdir()) == ['iter_2.png', 'iter_3.png']
    picture = read_rgb(local / 'iter_3.png')
    recorded = runner.visualizer.get_backend('RecordingVisBackend').images  # every backend gets the pictures
    assert sorted(recorded) == [('iter', 2), ('iter', 3)]
    np.testing.assert_array_equal(recorded['iter', 3], picture)
    assert picture.shape == (LINE_HEIGHT + 2 * 64 + 4 * PAD, 3 * 256 + 4 * PAD, 3)
    masked = greyed_tokens(picture, 1)
    assert masked.sum() == 192
    # the reconstruction keeps the visible patches of the input and predicts the others
    visible = ~masked.repeat(8, 0).repeat(8, 1)
    np.testing.assert_array_equal(panel(picture, 1, 2)[visible], panel(picture, 1, 0)[visible])
    assert (panel(picture, 1, 2)[~visible] != panel(picture, 1, 0)[~visible]).any()


def test_first_samples_restores_rng_and_is_repeatable(words_bgr):
    loader = torch.utils.data.DataLoader(PackedWords(words_bgr, False), batch_size=4,
                                         collate_fn=lambda samples: {'inputs': torch.stack([s['inputs'] for s in
                                                                                            samples])})
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    batch = first_samples(loader, 3, seed=0)
    assert torch.equal(torch.rand(2), expected)
    assert torch.equal(batch['inputs'], words_bgr[:3])
    with pytest.raises(ValueError, match='yields no sample'):
        first_samples(torch.utils.data.DataLoader([None, None]), 2, seed=0)


def test_other_patch_sizes_and_wrong_models(words_bgr):
    backbone = dict(type='mmpretrain.TextViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2), patch_size=8)
    model = TextMAE(backbone=backbone, neck=dict(type='TextMAEDecoder', in_channels=32, embed_dim=32, depth=1,
                                                 num_heads=2, out_channels=8 * 8 * 3, grid_size=(4, 16)),
                    head=dict(type='TextMAEHead', patch_size=8), data_preprocessor=PREPROCESSOR).eval()
    hook = PretrainVisualizationHook(num_samples=2)
    data = {'inputs': words_bgr[:2], 'data_samples': [DataSample(mask=m) for m in masks(2, 0.75, (4, 16))]}
    columns = hook.panels(model, data)
    assert list(columns) == ['input', 'mask', 'reconstruction']
    greyed = (columns['mask'][0] != columns['input'][0]).any(-1)
    assert greyed.reshape(4, 8, 16, 8).any((1, 3)).sum() == 48  # 0.75 of the 4 x 16 tokens
    model.pictures = lambda out: {}
    with pytest.raises(TypeError, match='predictions of TextMAE hold no pred_image or pred_similarity'):
        hook.panels(model, data)
    with pytest.raises(ValueError, match='num_samples must be positive'):
        PretrainVisualizationHook(num_samples=0)


# ---------------------------------------------------------------- recognition samples
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 32), keep_ratio=False),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='PackTextRecogInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]
RECOGNIZER = dict(
    type='EncoderDecoderRecognizer',
    data_preprocessor=dict(type='TextRecogDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, bgr_to_rgb=True),
    backbone=dict(type='mmpretrain.TextViT', out_type='raw', arch=dict(embed_dims=32, num_layers=1, num_heads=2)),
    encoder=dict(type='LinearNorm', in_channels=32, out_channels=32),
    decoder=dict(type='ViTTransformerDecoder', max_seq_len=8, n_layers=1, d_model=32, n_head=2, d_k=16, d_v=16,
                 d_inner=32, module_loss=dict(type='CEModuleLoss', reduction='mean'),
                 postprocessor=dict(type='AttentionPostprocessor'),
                 dictionary=dict(type='Dictionary', dict_file=ENGLISH_DICT,
                                 with_start=False, with_end=True, with_padding=True, with_unknown=True)))


@pytest.fixture(scope='module')
def recog_samples(real_data_dir):
    """Eight IIIT5K test words through mmocr's loading pipeline (uint8 BGR inputs)."""
    root = real_data_dir / 'iiit5k_test'
    with DefaultScope.overwrite_default_scope('mmocr'):
        pipeline = Compose([TRANSFORMS.build(copy.deepcopy(t)) for t in PIPELINE])
        return [pipeline(dict(img_path=str(root / 'IMG' / f'{i}.png'),
                              instances=[dict(text=(root / 'label' / f'{i}.txt').read_text().strip())]))
                for i in range(1, 9)]


@VISBACKENDS.register_module()
class RecordingVisBackend(BaseVisBackend):
    """Keeps the images it is sent, as TensorBoard's or wandb's backend would log them."""

    def __init__(self, save_dir: Optional[str] = None) -> None:
        super().__init__(save_dir)
        self.images: Dict[Tuple[str, int], np.ndarray] = {}

    @property
    def experiment(self) -> 'RecordingVisBackend':
        return self

    def _init_env(self) -> None:
        pass

    def add_image(self, name: str, image: np.ndarray, step: int = 0, **kwargs) -> None:
        self.images[name, step] = image


def visualizer_cfg(name: str) -> dict:
    return dict(type='ScoredTextRecogVisualizer', name=name,
                vis_backends=[dict(type='LocalVisBackend'), dict(type='RecordingVisBackend')])


def test_recognition_samples_reach_every_backend_in_validation_and_test(recog_samples, tmp_path):
    loader = dict(dataset=recog_samples, batch_size=4, num_workers=0, collate_fn=dict(type='pseudo_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=False))
    evaluator = dict(type='WordMetric', mode=['exact', 'ignore_case_symbol'])
    runner = Runner(model=copy.deepcopy(RECOGNIZER), work_dir=str(tmp_path), train_dataloader=loader,
                    val_dataloader=loader, test_dataloader=loader, val_evaluator=evaluator,
                    test_evaluator=evaluator, train_cfg=dict(by_epoch=True, max_epochs=1, val_interval=1),
                    val_cfg=dict(type='ValLoop'), test_cfg=dict(type='TestLoop'),
                    optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)), default_hooks=dict(checkpoint=None),
                    custom_hooks=[dict(type='RecognitionSamplesHook', num_samples=6)], default_scope='mmocr',
                    visualizer=visualizer_cfg(f'recog_{tmp_path.name}'), experiment_name=f'recog_{tmp_path.name}')
    runner.train()
    runner.test()
    names = [f'{phase}_sample_{i}_1.png' for phase in ('test', 'val') for i in range(6)]  # step: epoch 1
    local, = tmp_path.glob('*/vis_data/vis_image')
    assert sorted(p.name for p in local.iterdir()) == names
    recorded = runner.visualizer.get_backend('RecordingVisBackend').images
    assert sorted(f'{name}_{step}.png' for name, step in recorded) == names
    picture = read_rgb(local / 'test_sample_5_1.png')  # the 6th word
    np.testing.assert_array_equal(picture, recorded['test_sample_5', 1])
    assert picture.shape == (64 + 2 * LINE_HEIGHT, 256, 3)
    rgb = recog_samples[5]['inputs'].flip(0).permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(picture[:64], letterbox(rgb, (64, 256)))
    assert (picture[64:] == RED).all(-1).any()  # an untrained model reads every word wrong


@pytest.mark.parametrize('metric, preds, gt', [
    (dict(type='WordMetric', mode=['exact', 'ignore_case_symbol'], valid_symbol='[^A-Za-z0-9]'), ['CAT.', 'dog'],
     'cat'),  # case and symbols ignored, as WAICS counts
    (dict(type='ChineseRecogMetric'), ['中華', '中文'], '中华'),  # traditional -> simplified; a wrong word is wrong
])
def test_recognition_colours_follow_the_evaluator_metric(recog_samples, tmp_path, metric, preds, gt):
    hook = RecognitionSamplesHook(num_samples=2)
    visualizer = VISUALIZERS.build(dict(visualizer_cfg(f'colours_{tmp_path.name}'), cell_size=(32, 128),
                                        save_dir=str(tmp_path)))
    runner = SimpleNamespace(test_loop=SimpleNamespace(evaluator=Evaluator([METRICS.build(metric)])),
                             visualizer=visualizer)
    hook.before_test_epoch(runner)
    outputs = [TextRecogDataSample(pred_text=LabelData(item=pred, score=[0.5, 1.0]), gt_text=LabelData(item=gt))
               for pred in preds]
    hook.after_test_iter(runner, 0, {'inputs': [s['inputs'] for s in recog_samples[:3]]}, outputs)
    hook.after_test_iter(runner, 1, {'inputs': [s['inputs'] for s in recog_samples[:3]]}, outputs)  # 2 sent
    assert sorted(visualizer.get_backend('RecordingVisBackend').images) == [('test_sample_0', 0), ('test_sample_1', 0)]
    local, = tmp_path.glob('**/vis_image')
    right, wrong = (read_rgb(local / f'test_sample_{i}_0.png') for i in (0, 1))
    assert right.shape == wrong.shape == (32 + 2 * LINE_HEIGHT, 128, 3)
    assert (right == GREEN).all(-1).any() and not (right == RED).all(-1).any()
    assert (wrong == RED).all(-1).any() and not (wrong == GREEN).all(-1).any()
    assert 'correct' not in outputs[0].pred_text  # the hook marks copies


def test_visualizer_draws_unmarked_and_grey_words_in_black(tmp_path):
    visualizer = ScoredTextRecogVisualizer(name=f'plain_{tmp_path.name}', cell_size=(32, 128))
    sample = TextRecogDataSample(pred_text=LabelData(item='$5 a $'), gt_text=LabelData(item='5'))
    drawn = visualizer.add_datasample('word', np.full((20, 60), 200, np.uint8), sample,
                                      out_file=str(tmp_path / 'w.png'))
    assert drawn.shape == (32 + 2 * LINE_HEIGHT, 128, 3)
    np.testing.assert_array_equal(read_rgb(tmp_path / 'w.png'), drawn)
    text = drawn[32:]
    assert (text == BLACK).all(-1).any() and not ((text == GREEN).all(-1) | (text == RED).all(-1)).any()
    only_gt = visualizer.add_datasample('word', np.zeros((20, 60, 3), np.uint8), sample, draw_pred=False)
    assert only_gt.shape == (32 + LINE_HEIGHT, 128, 3)

