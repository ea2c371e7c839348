"""LMIM two-view pipeline, a mask transform and packing for mmpretrain's SelfSupDataPreprocessor."""
import random
from pathlib import Path

import cv2
import imgaug.augmenters as iaa
import numpy as np
import pytest
import torch
from mmcv.transforms import RandomApply, RandomGrayscale, Resize
from mmengine.dataset import default_collate
from mmpretrain.datasets.transforms import ColorJitter, PackInputs
from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.registry import TRANSFORMS
from PIL import Image
from torchvision.transforms import functional as TF

from lmim_mm.datasets.transforms.two_view import GUIDANCE_OPS, GuidanceAugment, LMIMTwoView
from lmim_reference.two_view import ReferenceTwoView


@pytest.fixture(scope='module')
def images(real_data_dir: Path) -> list:
    """Eight real word images (BGR uint8, various sizes) with their paths."""
    paths = [real_data_dir / 'iiit5k_test' / 'IMG' / f'{i}.png' for i in range(1, 9)]
    return [(cv2.imread(str(p)), str(p)) for p in paths]


def run(transform, img: np.ndarray, path: str = 'word.png') -> dict:
    return transform({'img': img.copy(), 'img_path': path})


def test_two_views_shapes_dtypes_and_clean_view_is_a_plain_resize(images):
    np.random.seed(0)
    for img, path in images:
        clean, guidance = run(LMIMTwoView(), img, path)['img']
        for view in (clean, guidance):
            assert view.shape == (32, 128, 3) and view.dtype == np.uint8
        np.testing.assert_array_equal(clean, cv2.resize(img, (128, 32), interpolation=cv2.INTER_CUBIC))
        assert not np.array_equal(clean, guidance)


def test_guidance_pipeline_is_mmpretrains_with_the_papers_settings():
    clean, guidance = LMIMTwoView().pipelines
    assert [type(t) for t in clean.transforms] == [Resize]
    augment, resize, jitter, gray = guidance.transforms
    assert isinstance(augment, GuidanceAugment) and isinstance(resize, Resize) and resize.scale == (128, 32)
    assert isinstance(jitter, RandomApply) and jitter.prob == 0.8
    color = jitter.transforms.transforms[0]
    assert isinstance(color, ColorJitter) and color.brightness == (0.6, 1.4) and color.hue == (-0.1, 0.1)
    assert isinstance(gray, RandomGrayscale) and gray.prob == 0.2 and gray.keep_channels


def test_views_are_reproducible_under_the_worker_seeds(images):
    def views(seed):
        np.random.seed(seed)
        random.seed(seed)  # RandomGrayscale draws from Python's RNG; mmengine seeds both in workers
        return [run(LMIMTwoView(), img)['img'][1] for img, _ in images]

    first, again, other = views(3), views(3), views(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_every_operation_keeps_a_valid_image(images):
    augment = GuidanceAugment()
    np.random.seed(1)
    for name in GUIDANCE_OPS:
        for img, _ in images[:4]:
            out = augment.apply(name, img)
            assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3


def test_three_or_more_distinct_operations_in_random_order(images):
    augment = GuidanceAugment()
    calls = []
    apply = augment.apply
    augment.apply = lambda name, img: calls.append(name) or apply(name, img)
    np.random.seed(2)
    orders = set()
    for _ in range(300):
        calls.clear()
        run(augment, images[0][0])
        assert 3 <= len(calls) <= 10 and len(set(calls)) == len(calls)
        orders.add(tuple(calls))
    assert len(orders) > 250
    assert {len(order) for order in orders} == set(range(3, 11))
    inverted = GuidanceAugment(ops=('solarize', ), min_ops=1, solarize_prob=1.0, solarize_threshold=(0, 0))
    np.testing.assert_array_equal(run(inverted, images[0][0])['img'], 255 - images[0][0])


@pytest.mark.parametrize('name,ours,theirs', [
    ('linear_contrast', dict(contrast=(0.7, 0.7)), iaa.LinearContrast(0.7)),
    ('sharpen', dict(sharpen_alpha=(0.4, 0.4), sharpen_lightness=(0.3, 0.3)), iaa.Sharpen(alpha=0.4, lightness=0.3)),
    ('gaussian_blur', dict(blur_sigma=(1.2, 1.2)), iaa.GaussianBlur(1.2)),
    ('grayscale', dict(grayscale_alpha=(0.6, 0.6)), iaa.Grayscale(alpha=0.6)),
    ('solarize', dict(solarize_prob=1.0, solarize_threshold=(100, 100)), iaa.Solarize(1.0, threshold=100)),
])
def test_photometric_operations_match_the_authors_imgaug_augmenters(images, name, ours, theirs):
    augment = GuidanceAugment(ops=(name, ), min_ops=1, **ours)
    for img, _ in images[:4]:
        expected = theirs(image=np.ascontiguousarray(img[..., ::-1]))[..., ::-1]  # imgaug works on RGB
        got = augment.apply(name, img)
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_geometric_operations_without_strength_are_identities(images):
    img = images[0][0]
    still = GuidanceAugment(crop_vertical=(0, 0), crop_horizontal=(0, 0), rotate=0, piecewise_scale=(0, 0),
                            perspective_scale=(0, 0))
    for name in ('crop_vertical', 'crop_horizontal', 'rotate', 'piecewise_affine', 'perspective'):
        np.testing.assert_array_equal(still.apply(name, img), img)
    rotated = GuidanceAugment(rotate=15).apply('rotate', img)
    assert rotated.shape[0] > img.shape[0] and rotated.shape[1] >= img.shape[1]  # output fits the rotation
    cropped = GuidanceAugment(crop_vertical=(0.1, 0.1)).apply('crop_vertical', img)
    h = img.shape[0]
    inner = img[round(0.1 * h):h - round(0.1 * h)]
    np.testing.assert_array_equal(cropped, cv2.resize(inner, img.shape[1::-1], interpolation=cv2.INTER_CUBIC))


@pytest.mark.filterwarnings('ignore:Only use')  # mmcv's pillow saturation
@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('name,factor,reference', [('brightness', 1.3, TF.adjust_brightness),
                                                   ('contrast', 0.7, TF.adjust_contrast),
                                                   ('saturation', 1.2, TF.adjust_saturation),
                                                   ('hue', 0.08, TF.adjust_hue)])
def test_color_jitter_follows_the_authors_torchvision_on_pil(images, name, factor, reference, backend):
    fixed = {**dict(brightness=0, contrast=0, saturation=0, hue=0, backend=backend), name: (factor, factor)}
    jitter = LMIMTwoView(color_jitter=fixed, color_jitter_prob=1.0).pipelines[1].transforms[2]
    for img, _ in images[:4]:
        small = cv2.resize(img, (128, 32), interpolation=cv2.INTER_CUBIC)
        expected = np.asarray(reference(Image.fromarray(small[..., ::-1].copy()), factor))[..., ::-1].astype(int)
        error = np.abs(jitter({'img': small})['img'].astype(int) - expected)
        if backend == 'pillow':
            assert error.max() == 0
        elif name == 'hue':  # 8-bit HSV round trips of OpenCV and PIL differ slightly, even without a shift
            assert error.mean() < min(1.0, 0.1 * np.abs(expected - small).mean())
        else:
            assert error.max() <= 1


def test_grayscale_view_is_luma_in_three_channels(images):
    img = cv2.resize(images[0][0], (128, 32))
    gray = LMIMTwoView(grayscale_prob=1.0, color_jitter_prob=0.0).pipelines[1].transforms[-1]({'img': img})['img']
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    expected = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(int)
    assert np.abs(gray[..., 0].astype(int) - expected).max() <= 1


def test_bad_input_and_configs_name_the_problem():
    with pytest.raises(ValueError, match="'img' of img_path='word.png'.* got NoneType"):
        GuidanceAugment()({'img_path': 'word.png'})
    with pytest.raises(ValueError, match="'img' of img_path='gray.png'"):
        LMIMTwoView()({'img': np.zeros((10, 20), np.uint8), 'img_path': 'gray.png'})
    with pytest.raises(ValueError, match='unknown'):
        GuidanceAugment(ops=('rotate', 'swirl'))
    with pytest.raises(ValueError, match='min_ops'):
        GuidanceAugment(ops=('rotate', ), min_ops=3)


def test_pack_collate_and_selfsup_data_preprocessor(images):
    pipeline = [TRANSFORMS.build(dict(type='LMIMTwoView')),
                TRANSFORMS.build(dict(type='RandomPatchMaskGenerator', ratio=0.8)),
                TRANSFORMS.build(dict(type='PackInputs'))]
    assert isinstance(pipeline[0], LMIMTwoView) and type(pipeline[-1]) is PackInputs
    np.random.seed(0)
    samples = []
    for img, path in images[:4]:
        results = {'img': img.copy(), 'img_path': path}
        for transform in pipeline:
            results = transform(results)
        samples.append(results)
    clean, guidance = samples[0]['inputs']
    assert clean.shape == guidance.shape == (3, 32, 128) and clean.dtype == torch.uint8
    assert samples[0]['data_samples'].mask.dtype == torch.bool
    batch = default_collate(samples)
    preprocessor = SelfSupDataPreprocessor(mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
    out = preprocessor(batch)
    views = out['inputs']
    assert len(views) == 2 and all(v.shape == (4, 3, 32, 128) and v.dtype == torch.float32 for v in views)
    bgr = samples[0]['inputs'][0]
    torch.testing.assert_close(views[0][0, 0], (bgr[2].float() - 127.5) / 127.5)  # RGB, normalised
    assert views[0].min() >= -1 and views[0].max() <= 1
    masks = torch.stack([s.mask for s in out['data_samples']])
    assert masks.shape == (4, 256) and masks.sum(1).eq(205).all()


@pytest.mark.filterwarnings('ignore::FutureWarning')  # scikit-image deprecation inside imgaug
def test_reference_two_view_makes_normalised_tensors(images):
    img = cv2.cvtColor(images[0][0], cv2.COLOR_BGR2RGB)
    np.random.seed(0)
    torch.manual_seed(0)
    clean, guidance = ReferenceTwoView()(Image.fromarray(img))
    assert clean.shape == guidance.shape == (3, 32, 128)
    assert clean.min() >= -1 and clean.max() <= 1 and not torch.equal(clean, guidance)
