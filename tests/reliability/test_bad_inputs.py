"""Bad images, labels and options: an error naming the file / option, or a skip that is logged and counted."""
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from lmim_mm.datasets import LabeledLMDBDataset, UnlabeledLMDBDataset
from lmim_mm.datasets.image_io import ImageDecodeError, read_image
from lmim_mm.datasets.sources import DatasetFormatError, list_folder_samples, write_lmdb
from lmim_mm.datasets.transforms.mask_transform import (
    BlockwiseMaskGenerator,
    RandomPatchMaskGenerator,
    SpanMaskGenerator,
)
from lmim_mm.datasets.transforms.two_view import GuidanceAugment, LMIMTwoView
from lmim_mm.models.backbones import TextViT
from tests.helpers.tiny_data import png_header_only


@pytest.fixture(scope='module')
def jpeg(real_data_dir) -> bytes:
    return next(p for p in sorted((real_data_dir / 'svt_test' / 'IMG').iterdir()) if p.suffix == '.jpg').read_bytes()


def alpha_only_word() -> bytes:
    """A PNG word drawn only in the alpha channel: the RGB values are black everywhere."""
    alpha = Image.new('L', (128, 32), 0)
    ImageDraw.Draw(alpha).text((10, 8), 'WORD', fill=255)
    rgba = Image.merge('RGBA', (*[Image.new('L', (128, 32), 0)] * 3, alpha))
    buffer = io.BytesIO()
    rgba.save(buffer, format='PNG')
    return buffer.getvalue()


# ------------------------------------------------------------------ images
def test_empty_image_names_file():
    with pytest.raises(ImageDecodeError, match=r'^IMG/7\.jpg: empty image'):
        read_image(b'', 'IMG/7.jpg')


def test_truncated_jpeg_refused(jpeg):
    half = jpeg[:len(jpeg) // 2]
    assert cv2.imdecode(np.frombuffer(half, np.uint8), cv2.IMREAD_COLOR) is not None  # OpenCV: silent grey fill
    with pytest.raises(ImageDecodeError, match=r'^IMG/1\.jpg: truncated JPEG'):
        read_image(half, 'IMG/1.jpg')
    assert read_image(jpeg, 'IMG/1.jpg').shape[2] == 3


def test_over_large_image_refused_before_decoding():
    with pytest.raises(ImageDecodeError, match=r'^huge\.png: .*3600000000 pixels.*, more than max_pixels='):
        read_image(png_header_only(60000, 60000), 'huge.png')
    with pytest.raises(ImageDecodeError, match=r'^big\.png: PNG of 10000 x 8000 = 80000000 pixels, more than '
                                               r'max_pixels=67108864'):
        read_image(png_header_only(10000, 8000), 'big.png')
    with pytest.raises(ImageDecodeError, match='max_pixels=100'):
        read_image(png_header_only(20, 10), 'small.png', max_pixels=100)


def test_alpha_is_composited_on_white():
    data = alpha_only_word()
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).max() == 0  # what OpenCV alone reads
    img = read_image(data, 'word.png')
    assert img.shape == (32, 128, 3) and img.dtype == np.uint8
    assert (img == 255).all(axis=2).mean() > 0.8 and img.min() < 64  # white page, dark word


def write_image_lmdb(path: Path, images, labels=None) -> Path:
    write_lmdb(zip(images, labels or [None] * len(images)), path, progress=False)
    return path


def test_training_skips_and_counts_test_refuses_naming_key(tmp_path, jpeg):
    images = [jpeg, jpeg[:len(jpeg) // 2], png_header_only(60000, 60000), jpeg]
    root = write_image_lmdb(tmp_path / 'u.lmdb', images)
    train = UnlabeledLMDBDataset(str(root), pipeline=[], max_skip_fraction=1.0)
    assert [train[i] is None for i in range(4)] == [False, True, True, False]
    assert train.stats()[str(root)].skipped == 2 and train.epoch_stats()[str(root)].seen == 4
    labeled = write_image_lmdb(tmp_path / 'l.lmdb', images, ['a', 'b', 'c', 'd'])
    test = LabeledLMDBDataset(str(labeled), pipeline=[], test_mode=True)
    with pytest.raises(DatasetFormatError, match=r'l\.lmdb/image-000000002: truncated JPEG'):
        test[1]
    with pytest.raises(DatasetFormatError, match=r'l\.lmdb/image-000000003: too large .*3600000000 pixels'):
        test[2]


# ------------------------------------------------------------------ labels and LMDBs
def test_empty_label_file_is_an_error_naming_it(tmp_path, jpeg):
    for sub in ('IMG', 'label'):
        (tmp_path / sub).mkdir()
    for i, text in enumerate(['word', ''], 1):
        (tmp_path / 'IMG' / f'{i}.jpg').write_bytes(jpeg)
        (tmp_path / 'label' / f'{i}.txt').write_text(text)
    with pytest.raises(DatasetFormatError, match=r'label/2\.txt: empty label file'):
        list_folder_samples(tmp_path)


def test_empty_lmdb_label_refused_in_test_dropped_in_training(tmp_path, jpeg):
    root = write_image_lmdb(tmp_path / 'l.lmdb', [jpeg, jpeg], ['word', ''])
    with pytest.raises(DatasetFormatError, match=r'l\.lmdb/image-000000002: empty label'):
        LabeledLMDBDataset(str(root), pipeline=[], test_mode=True)[1]
    train = LabeledLMDBDataset(str(root), pipeline=[])
    assert train[0] is not None and train[1] is None and train.stats()[str(root)].filtered == 1


def test_lmdb_without_samples_is_an_error_naming_it(tmp_path):
    root = write_image_lmdb(tmp_path / 'empty.lmdb', [])
    with pytest.raises(DatasetFormatError, match=r"no sample to read in \['.*empty\.lmdb'\]"):
        UnlabeledLMDBDataset(str(root), pipeline=[])


# ------------------------------------------------------------------ options
@pytest.mark.parametrize('generator', [RandomPatchMaskGenerator, BlockwiseMaskGenerator, SpanMaskGenerator])
@pytest.mark.parametrize('ratio', [1.5, 0, -0.5, 1.0])
def test_mask_ratio_out_of_range_refused_at_build(generator, ratio):
    with pytest.raises(ValueError, match=f'{generator.__name__}: ratio'):
        generator(ratio=ratio)


def test_text_vit_masked_forward_checks_the_mask():
    vit = TextViT(arch=dict(embed_dims=32, num_layers=1, num_heads=2))
    with pytest.raises(ValueError, match=r'mask must be bool of shape \(1, 256\), got torch.float32'):
        vit.forward_masked(torch.zeros(1, 3, 32, 128), torch.zeros(1, 256))
    with pytest.raises(ValueError, match=r'mask must be bool of shape \(1, 256\), got torch.bool \(1, 255\)'):
        vit.forward_masked(torch.zeros(1, 3, 32, 128), torch.zeros(1, 255, dtype=torch.bool))


@pytest.mark.parametrize('build, option', [
    (lambda: RandomPatchMaskGenerator(ratio=-0.1), 'RandomPatchMaskGenerator: ratio must be a number in [0, 1]'),
    (lambda: SpanMaskGenerator(ratio=1.5), 'SpanMaskGenerator: ratio must be a number in [0, 1]'),
    (lambda: BlockwiseMaskGenerator(ratio=0.0), 'BlockwiseMaskGenerator: ratio=0.0 masks 0 of 256 units'),
    (lambda: GuidanceAugment(solarize_prob=1.5), 'GuidanceAugment: solarize_prob must be a number in [0, 1]'),
    (lambda: GuidanceAugment(crop_vertical=(0.2, 0.1)), 'GuidanceAugment: crop_vertical must be a pair lo <= hi'),
    (lambda: GuidanceAugment(grayscale_alpha=(0, 2)), 'GuidanceAugment: grayscale_alpha'),
    (lambda: GuidanceAugment(swirl=(0, 1)), "GuidanceAugment: ops must be a non-empty subset"),
    (lambda: LMIMTwoView(color_jitter_prob=-0.1), 'LMIMTwoView: color_jitter_prob must be a number in [0, 1]'),
    (lambda: LMIMTwoView(grayscale_prob=float('nan')), 'LMIMTwoView: grayscale_prob'),
    (lambda: LMIMTwoView(size=(0, 128)), 'LMIMTwoView: size must be two positive ints'),
])
def test_bad_options_name_the_option_and_range(build, option):
    with pytest.raises(ValueError) as info:
        build()
    assert option in str(info.value)


def test_onnx_runtime_reader_follows_the_same_rules(tmp_path, real_data_dir):
    """``infer.py --onnx`` reads with lmim_mm.deploy (Pillow): the same refusals, named, the same limit."""
    from lmim_mm.datasets import image_io
    from lmim_mm.deploy import preprocess

    assert preprocess.MAX_IMAGE_PIXELS == image_io.MAX_IMAGE_PIXELS
    jpeg = (real_data_dir / 'svt_test' / 'IMG' / '1.jpg').read_bytes()
    cases = {'empty.jpg': b'', 'half.jpg': jpeg[:len(jpeg) // 2], 'huge.png': png_header_only(60000, 60000)}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=name.replace('.', r'\.')):
            preprocess.read_image(tmp_path / name)
    with pytest.raises(ValueError, match=r'huge\.png: too large .*3600000000 pixels.*more than max_pixels=67108864'):
        preprocess.read_image(tmp_path / 'huge.png')
    (tmp_path / 'word.png').write_bytes(alpha_only_word())
    word = preprocess.read_image(tmp_path / 'word.png')
    assert word.min() < 64 and word.max() == 255  # a dark word on white, not a blank image
