"""Images -> the exported encoder's input with Pillow and numpy only, as the recognizer's test pipeline does (mmocr
``Resize(scale=(W, H), keep_ratio=False)``, OpenCV's ``INTER_CUBIC``, then the data preprocessor's channel order and
normalisation). :func:`resize_bicubic` is OpenCV's separable cubic kernel (a = -0.75, no antialiasing, replicated
border) in float64: on the IIIT5K / SVT images about one value in 10^5 differs from ``cv2.resize``, by 1."""
from pathlib import Path
from typing import Sequence, Tuple, Union

import numpy as np
from PIL import Image, ImageOps

from .settings import DeploySettings

#: Largest width x height read, the limit of the PyTorch path (``lmim_mm.datasets.image_io``).
MAX_IMAGE_PIXELS = 1 << 26


def read_image(path: Union[str, Path], max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode an image file to RGB uint8 (H, W, 3): EXIF orientation applied, transparency composited on white. As
    in the PyTorch path, empty, undecodable and truncated files (Pillow refuses them) and images over ``max_pixels``
    (width x height, checked from the header) raise a ``ValueError`` naming the file."""
    try:
        with Image.open(path) as img:
            if img.width * img.height > max_pixels:
                raise ValueError(f'{img.width}x{img.height} pixels, more than max_pixels={max_pixels}')
            img = ImageOps.exif_transpose(img)
            if img.mode in ('RGBA', 'LA', 'PA') or (img.mode == 'P' and 'transparency' in img.info):
                img = Image.alpha_composite(Image.new('RGBA', img.size, (255, 255, 255, 255)), img.convert('RGBA'))
            array = np.asarray(img.convert('RGB'))
    except Image.DecompressionBombError as err:  # Pillow's own limit, far above ours
        raise ValueError(f'cannot decode image {path}: too large ({err}), more than max_pixels={max_pixels}') from err
    except (OSError, SyntaxError, ValueError) as err:  # unreadable, truncated or too large
        raise ValueError(f'cannot decode image {path}: {err}') from err
    if array.size == 0:
        raise ValueError(f'empty image {path} ({array.shape[1]}x{array.shape[0]})')
    return array


def _taps(src: int, dst: int) -> Tuple[np.ndarray, np.ndarray]:
    """Source indices (dst, 4) along one axis, clamped to the border, and their weights (dst, 4): OpenCV's cubic
    convolution (a = -0.75) of the fractional offsets."""
    centre = ((np.arange(dst) + 0.5) * (src / dst) - 0.5).astype(np.float32)  # OpenCV keeps it in float32
    left = np.floor(centre)
    t = (centre - left).astype(np.float64)
    a = -0.75
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    index = np.clip(left.astype(np.int64)[:, None] + np.arange(-1, 3), 0, src - 1)
    return index, np.stack([w0, w1, w2, 1 - w0 - w1 - w2], -1)


def resize_bicubic(img: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """``cv2.resize(img, (W, H), interpolation=cv2.INTER_CUBIC)`` of uint8 (h, w, C) to ``size`` (H, W)."""
    height, width = size
    if img.shape[:2] == (height, width):
        return img.copy()
    cols, col_weights = _taps(img.shape[1], width)
    rows, row_weights = _taps(img.shape[0], height)
    out = np.einsum('hwkc,wk->hwc', img.astype(np.float64)[:, cols], col_weights)
    out = np.einsum('hkwc,hk->hwc', out[rows], row_weights)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def to_input(images: Sequence[np.ndarray], settings: DeploySettings) -> np.ndarray:
    """RGB uint8 (h, w, 3) images of any sizes -> the encoder's normalised input batch, float32 (N, 3, H, W), by
    the export's ``settings`` (input size, channel order, mean, std)."""
    batch = np.stack([resize_bicubic(img, settings.img_size) for img in images]).astype(np.float32)
    if settings.channel_order == 'bgr':
        batch = batch[..., ::-1]
    mean = np.asarray(settings.mean, dtype=np.float32)
    std = np.asarray(settings.std, dtype=np.float32)
    return np.ascontiguousarray(((batch - mean) / std).transpose(0, 3, 1, 2))
