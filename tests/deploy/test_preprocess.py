"""Image reading and resizing of the deployment runtime (Pillow + numpy), against OpenCV / mmocr's pipeline."""
import cv2
import numpy as np
import pytest
from PIL import Image

from lmim_mm.deploy import DeploySettings, read_image, resize_bicubic, to_input

SETTINGS = DeploySettings(classes=('a', 'b', '<END>'), end_idx=2, bos_idx=3, ignore_indexes=(), max_seq_len=5,
                          beam_width=0, img_size=(32, 128), channel_order='rgb', mean=(127.5, ) * 3,
                          std=(127.5, ) * 3)


def test_resize_is_opencvs_bicubic(real_data_dir):
    """Every 10th IIIT5K / SVT test image: at most 1 of 255 apart from cv2.resize(INTER_CUBIC), rarely."""
    files = sorted((real_data_dir / 'iiit5k_test' / 'IMG').iterdir())[::10] + \
        sorted((real_data_dir / 'svt_test' / 'IMG').iterdir())[::10]
    differing = 0
    for path in files:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        ours = resize_bicubic(img, (32, 128)).astype(int)
        theirs = cv2.resize(img, (128, 32), interpolation=cv2.INTER_CUBIC).astype(int)
        assert np.abs(ours - theirs).max() <= 1, path
        differing += int((ours != theirs).sum())
    assert len(files) > 350 and differing / (len(files) * 32 * 128 * 3) < 1e-4


def test_resize_keeps_an_image_of_the_right_size():
    img = np.random.default_rng(0).integers(0, 256, (32, 128, 3), dtype=np.uint8)
    assert np.array_equal(resize_bicubic(img, (32, 128)), img)


def test_read_image_matches_opencv_and_composites_alpha(real_data_dir, tmp_path):
    path = real_data_dir / 'iiit5k_test' / 'IMG' / '1.png'
    assert np.array_equal(read_image(path), cv2.imread(str(path))[..., ::-1])
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[:, :3, 3] = 255  # left half opaque black, right half transparent (black RGB under it)
    Image.fromarray(rgba).save(tmp_path / 'alpha.png')
    out = read_image(tmp_path / 'alpha.png')
    assert out.shape == (4, 6, 3) and (out[:, :3] == 0).all() and (out[:, 3:] == 255).all()


def test_read_image_applies_exif_orientation(tmp_path):
    img = Image.new('RGB', (40, 10), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    img.save(tmp_path / 'rotated.jpg', exif=exif)
    assert read_image(tmp_path / 'rotated.jpg').shape == (40, 10, 3)


def test_bad_images_are_named(tmp_path):
    (tmp_path / 'junk.png').write_bytes(b'not an image')
    with pytest.raises(ValueError, match='junk.png'):
        read_image(tmp_path / 'junk.png')
    Image.new('RGB', (64, 64)).save(tmp_path / 'cut.png')
    (tmp_path / 'cut.png').write_bytes((tmp_path / 'cut.png').read_bytes()[:60])
    with pytest.raises(ValueError, match='cut.png'):
        read_image(tmp_path / 'cut.png')


@pytest.mark.parametrize('order', ['rgb', 'bgr'])
def test_to_input_normalises_in_the_models_channel_order(order):
    img = np.zeros((32, 128, 3), np.uint8)
    img[..., 0] = 255  # red
    settings = DeploySettings(**{**SETTINGS.__dict__, 'channel_order': order, 'mean': (0., 127.5, 255.)})
    batch = to_input([img, img], settings)
    assert batch.shape == (2, 3, 32, 128) and batch.dtype == np.float32
    red = 0 if order == 'rgb' else 2
    expected = {red: (255 - settings.mean[red]) / 127.5}
    for channel in range(3):
        value = expected.get(channel, -settings.mean[channel] / 127.5)
        np.testing.assert_allclose(batch[:, channel], value, rtol=1e-6)
