"""LMIM's two views of a word image, on OpenCV / numpy (METHOD.md sec. 3).

From ``results['img']`` (H x W x 3 uint8 BGR, as mmcv loads it) the pipeline makes

- the clean view ``results['img']``: only resized to 32 x 128 (bicubic);
- the guidance view ``results['img_guidance']``: at the original resolution 3 or more of ten
  appearance / geometry operations in random order (:class:`GuidanceAugment`), then resized to
  32 x 128, colour jitter (0.4, 0.4, 0.2, 0.1) with p 0.8 and grayscale with p 0.2.

Normalisation (mean = std = 127.5, BGR -> RGB) is left to the model's ``SelfSupDataPreprocessor``,
which takes the list that :class:`PackTwoViewInputs` packs. The operations follow the authors'
imgaug augmenters and torchvision transforms (re-created in :mod:`lmim_mm.testing.reference_aug`)
with the same parameter laws; imgaug's piecewise affine (a scikit-image triangulated warp, the
slowest step by far) is approximated by a bilinear displacement field applied with ``cv2.remap``.
All randomness comes from numpy's global RNG, which mmengine seeds in every dataloader worker (as
mmcv's own transforms do), so the views are reproducible. A pretraining pipeline::

    pipeline = [
        dict(type='LoadImageFromFile'),  # or an LMDB loader that fills results['img']
        dict(type='LMIMTwoView'),
        dict(type='RandomPatchMaskGenerator', ratio=0.8),  # a mask transform of mask_transform.py
        dict(type='PackTwoViewInputs'),
    ]
"""
from typing import Callable, Dict, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import PackInputs

from lmim_mm.registry import register
from lmim_mm.utils.options import check_bounds, check_number

Range = Tuple[float, float]

#: The guidance operations of LMIM's "medium" augmentation, in the authors' order.
GUIDANCE_OPS = ('linear_contrast', 'gaussian_blur', 'crop_vertical', 'crop_horizontal', 'sharpen', 'rotate',
                'piecewise_affine', 'perspective', 'solarize', 'grayscale')


def sample_name(results: dict) -> str:
    """How error messages name a sample: its ``img_path``, else its ``sample_idx``."""
    for key in ('img_path', 'sample_idx'):
        if key in results:
            return f'{key}={results[key]!r}'
    return 'sample without img_path/sample_idx'


def check_image(results: dict, key: str, owner: str) -> np.ndarray:
    """``results[key]`` as an H x W x 3 uint8 image, or an error naming the transform, key and sample."""
    if key not in results:
        raise KeyError(f'{owner}: {sample_name(results)} has no {key!r}')
    img = results[key]
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 or \
            min(img.shape[:2]) < 1:
        described = f'{img.dtype} array of shape {img.shape}' if isinstance(img, np.ndarray) else type(img).__name__
        raise ValueError(f'{owner}: {key!r} of {sample_name(results)} must be an H x W x 3 uint8 image, '
                         f'got {described}')
    return img


def _uniform(bounds: Range) -> float:
    return float(np.random.uniform(bounds[0], bounds[1]))


def _gray3(img: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601, as PIL's ``convert('L')``) of a BGR image, repeated over 3 channels."""
    return cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def _lut(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    return cv2.LUT(img, np.clip(table, 0, 255).astype(np.uint8))


def _crop_keep_size(img: np.ndarray, top: float, bottom: float, left: float, right: float) -> np.ndarray:
    """Cut fractions of the height / width off each side, then resize back (bicubic, as imgaug)."""
    h, w = img.shape[:2]
    t, b = int(round(top * h)), int(round(bottom * h))
    l, r = int(round(left * w)), int(round(right * w))
    if (t + b == 0 and l + r == 0) or t + b >= h or l + r >= w:
        return img
    return cv2.resize(img[t:h - b, l:w - r], (w, h), interpolation=cv2.INTER_CUBIC)


def _tent_weights(size: int, points: int) -> np.ndarray:
    """(size, points) linear interpolation weights from ``points`` knots spanning [0, size - 1]."""
    knots = np.linspace(0, size - 1, points)
    spacing = max(knots[1] - knots[0], 1e-6)
    weights = np.clip(1 - np.abs(np.arange(size)[:, None] - knots[None, :]) / spacing, 0, None)
    return (weights / weights.sum(1, keepdims=True)).astype(np.float32)


@register('TRANSFORMS')
class GuidanceAugment(BaseTransform):
    """LMIM's appearance augmentation: ``min_ops`` or more operations in random order (imgaug ``SomeOf``).

    Works at the original resolution on an H x W x 3 uint8 BGR image; the output may differ in size
    (the rotation fits its output). Parameter laws, per image (as the authors' imgaug augmenters):

    - ``linear_contrast``: ``127 + alpha * (v - 127)``, alpha ~ U(``contrast``);
    - ``gaussian_blur``: sigma ~ U(``blur_sigma``), kernel ``max(int(3.3 sigma), 5)`` (odd);
    - ``crop_vertical`` / ``crop_horizontal``: each side loses U(``crop_*``) of the height / width,
      then the image is resized back;
    - ``sharpen``: 3 x 3 kernel ``(1 - a) I + a [[-1, -1, -1], [-1, 8 + l, -1], [-1, -1, -1]]``,
      a ~ U(``sharpen_alpha``), l ~ U(``sharpen_lightness``);
    - ``rotate``: U(-``rotate``, ``rotate``) degrees, bilinear, black corners, output enlarged to fit;
    - ``piecewise_affine``: a 2-4 x 2-4 grid of control points moved by N(0, s) x (H, W),
      s ~ U(``piecewise_scale``); the displacement is interpolated bilinearly over the image and
      applied with ``cv2.remap`` (imgaug warps a triangulation with scikit-image instead);
    - ``perspective``: each corner moved inwards by ``|N(0, s)|`` x (W, H), s ~ U(``perspective_scale``),
      and the quadrilateral warped back to the full image;
    - ``solarize``: with probability ``solarize_prob``, values >= t ~ U(``solarize_threshold``) inverted;
    - ``grayscale``: blend with the luma image, alpha ~ U(``grayscale_alpha``).

    Args:
        min_ops: Fewest operations per image.
        max_ops: Most operations per image; None = all of ``ops``.
        ops: Operation names, a subset of :data:`GUIDANCE_OPS` (e.g. geometric ones only for the
            paper's "weak" ablation).
        contrast, blur_sigma, crop_vertical, crop_horizontal, sharpen_alpha, sharpen_lightness,
        piecewise_scale, perspective_scale, solarize_threshold, grayscale_alpha: (low, high) ranges.
        rotate: Largest rotation in degrees.
        solarize_prob: Probability that a chosen solarize inverts.
        src_key: Key of the input image.
        dst_key: Key of the augmented image.
    """

    def __init__(self, min_ops: int = 3, max_ops: Optional[int] = None, ops: Sequence[str] = GUIDANCE_OPS,
                 contrast: Range = (0.5, 1.0), blur_sigma: Range = (0.5, 1.5), crop_vertical: Range = (0.0, 0.1),
                 crop_horizontal: Range = (0.0, 0.02), sharpen_alpha: Range = (0.0, 0.5),
                 sharpen_lightness: Range = (0.0, 0.5), rotate: float = 15.0, piecewise_scale: Range = (0.03, 0.05),
                 perspective_scale: Range = (0.02, 0.06), solarize_threshold: Range = (32, 128),
                 solarize_prob: float = 0.5, grayscale_alpha: Range = (0.0, 1.0), src_key: str = 'img',
                 dst_key: str = 'img_guidance') -> None:
        unknown = sorted(set(ops) - set(GUIDANCE_OPS))
        if unknown or not ops:
            raise ValueError(f'GuidanceAugment: ops must be a non-empty subset of {GUIDANCE_OPS}, unknown: {unknown}')
        self.ops = tuple(ops)
        self.max_ops = len(self.ops) if max_ops is None else max_ops
        if not 0 <= min_ops <= self.max_ops <= len(self.ops):
            raise ValueError(f'GuidanceAugment: need 0 <= min_ops <= max_ops <= {len(self.ops)}, '
                             f'got {min_ops} and {max_ops}')
        self.min_ops = min_ops
        owner = type(self).__name__
        self.contrast = check_bounds(owner, 'contrast', contrast, 0.0)
        self.blur_sigma = check_bounds(owner, 'blur_sigma', blur_sigma, 0.0)
        self.crop_vertical = check_bounds(owner, 'crop_vertical', crop_vertical, 0.0, 0.45)
        self.crop_horizontal = check_bounds(owner, 'crop_horizontal', crop_horizontal, 0.0, 0.45)
        self.sharpen_alpha = check_bounds(owner, 'sharpen_alpha', sharpen_alpha, 0.0, 1.0)
        self.sharpen_lightness = check_bounds(owner, 'sharpen_lightness', sharpen_lightness, 0.0)
        self.rotate = check_number(owner, 'rotate', rotate, 0.0, 180.0)
        self.piecewise_scale = check_bounds(owner, 'piecewise_scale', piecewise_scale, 0.0)
        self.perspective_scale = check_bounds(owner, 'perspective_scale', perspective_scale, 0.0)
        self.solarize_threshold = check_bounds(owner, 'solarize_threshold', solarize_threshold, 0.0, 256.0)
        self.solarize_prob = check_number(owner, 'solarize_prob', solarize_prob, 0.0, 1.0)
        self.grayscale_alpha = check_bounds(owner, 'grayscale_alpha', grayscale_alpha, 0.0, 1.0)
        self.src_key, self.dst_key = src_key, dst_key
        self._apply: Dict[str, Callable[[np.ndarray], np.ndarray]] = {name: getattr(self, f'_{name}') for name in ops}

    def transform(self, results: dict) -> dict:
        """Write the augmented copy of ``results[src_key]`` to ``results[dst_key]``."""
        img = check_image(results, self.src_key, type(self).__name__)
        count = np.random.randint(self.min_ops, self.max_ops + 1)
        for name in np.random.choice(self.ops, count, replace=False):
            img = self._apply[name](img)
        results[self.dst_key] = img
        return results

    def _linear_contrast(self, img: np.ndarray) -> np.ndarray:
        alpha = _uniform(self.contrast)
        return _lut(img, 127 + alpha * (np.arange(256, dtype=np.float32) - 127))

    def _gaussian_blur(self, img: np.ndarray) -> np.ndarray:
        sigma = _uniform(self.blur_sigma)
        ksize = max(int(3.3 * sigma), 5) | 1
        return cv2.GaussianBlur(img, (ksize, ksize), sigma, borderType=cv2.BORDER_REFLECT_101)

    def _crop_vertical(self, img: np.ndarray) -> np.ndarray:
        return _crop_keep_size(img, _uniform(self.crop_vertical), _uniform(self.crop_vertical), 0.0, 0.0)

    def _crop_horizontal(self, img: np.ndarray) -> np.ndarray:
        return _crop_keep_size(img, 0.0, 0.0, _uniform(self.crop_horizontal), _uniform(self.crop_horizontal))

    def _sharpen(self, img: np.ndarray) -> np.ndarray:
        alpha, lightness = _uniform(self.sharpen_alpha), _uniform(self.sharpen_lightness)
        kernel = np.full((3, 3), -alpha, dtype=np.float32)
        kernel[1, 1] = 1 - alpha + alpha * (8 + lightness)
        return cv2.filter2D(img, -1, kernel)

    def _rotate(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), _uniform((-self.rotate, self.rotate)), 1.0)
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        out_w, out_h = max(int(round(h * sin + w * cos)), 1), max(int(round(h * cos + w * sin)), 1)
        matrix[:, 2] += (out_w - w) / 2, (out_h - h) / 2
        return cv2.warpAffine(img, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=(0, 0, 0))

    def _piecewise_affine(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        rows, cols = np.random.randint(2, 5, size=2)
        jitter = np.random.normal(0.0, _uniform(self.piecewise_scale), size=(2, rows, cols)).astype(np.float32)
        weights_y, weights_x = _tent_weights(h, rows), _tent_weights(w, cols)
        map_y = weights_y @ (jitter[0] * h) @ weights_x.T + np.arange(h, dtype=np.float32)[:, None]
        map_x = weights_y @ (jitter[1] * w) @ weights_x.T + np.arange(w, dtype=np.float32)[None, :]
        return cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))

    def _perspective(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        inset = np.mod(np.abs(np.random.normal(0.0, _uniform(self.perspective_scale), size=(4, 2))), 1)
        corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float32)
        source = (corners + (1 - 2 * corners) * inset) * np.array([w, h], dtype=np.float32)
        matrix = cv2.getPerspectiveTransform(source.astype(np.float32), corners * np.array([w, h], np.float32))
        return cv2.warpPerspective(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=(0, 0, 0))

    def _solarize(self, img: np.ndarray) -> np.ndarray:
        if np.random.rand() >= self.solarize_prob:
            return img
        values = np.arange(256, dtype=np.float32)
        return _lut(img, np.where(values >= _uniform(self.solarize_threshold), 255 - values, values))

    def _grayscale(self, img: np.ndarray) -> np.ndarray:
        alpha = _uniform(self.grayscale_alpha)
        return cv2.addWeighted(_gray3(img), alpha, img, 1 - alpha, 0)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(ops={self.ops}, min_ops={self.min_ops}, max_ops={self.max_ops}, '
                f'src_key={self.src_key!r}, dst_key={self.dst_key!r})')


@register('TRANSFORMS')
class ResizeViews(BaseTransform):
    """Resize several image keys to one fixed size and record ``img_shape``.

    Args:
        size: Output (H, W).
        keys: Image keys to resize.
        interpolation: mmcv interpolation name; ``'bicubic'`` as the authors' torchvision ``Resize``.
        backend: ``'cv2'`` (fast) or ``'pillow'`` (PIL's antialiased resampling, as torchvision on PIL
            images).
    """

    def __init__(self, size: Sequence[int] = (32, 128), keys: Sequence[str] = ('img', 'img_guidance'),
                 interpolation: str = 'bicubic', backend: str = 'cv2') -> None:
        if len(size) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in size):
            raise ValueError(f'ResizeViews: size must be two positive ints (H, W), got {size!r}')
        self.size = (int(size[0]), int(size[1]))
        self.keys = tuple(keys)
        self.interpolation = interpolation
        self.backend = backend

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            img = check_image(results, key, type(self).__name__)
            results[key] = mmcv.imresize(img, self.size[::-1], interpolation=self.interpolation, backend=self.backend)
        results['img_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, keys={self.keys}, interpolation={self.interpolation!r}, '
                f'backend={self.backend!r})')


@register('TRANSFORMS')
class ColorJitterView(BaseTransform):
    """torchvision's ``RandomApply([ColorJitter(b, c, s, h)], p)`` on one BGR uint8 image key.

    Factors as torchvision: brightness, contrast and saturation ~ U(max(0, 1 - x), 1 + x), hue shift
    ~ U(-hue, hue) of a full turn, applied in random order, each rounded to uint8 as PIL does.
    Contrast blends with the mean luma, saturation with the luma image, hue shifts HSV's H channel.

    Args:
        brightness, contrast, saturation: Jitter strengths.
        hue: Largest hue shift, in [0, 0.5].
        prob: Probability of jittering an image.
        key: Image key.
    """

    def __init__(self, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.2, hue: float = 0.1,
                 prob: float = 0.8, key: str = 'img_guidance') -> None:
        owner = type(self).__name__
        self.strengths = (check_number(owner, 'brightness', brightness, 0.0),
                          check_number(owner, 'contrast', contrast, 0.0),
                          check_number(owner, 'saturation', saturation, 0.0),
                          check_number(owner, 'hue', hue, 0.0, 0.5))
        self.prob = check_number(owner, 'prob', prob, 0.0, 1.0)
        self.key = key

    def transform(self, results: dict) -> dict:
        img = check_image(results, self.key, type(self).__name__)
        if np.random.rand() >= self.prob:
            return results
        b, c, s, h = self.strengths
        factors = (_uniform((max(0.0, 1 - b), 1 + b)), _uniform((max(0.0, 1 - c), 1 + c)),
                   _uniform((max(0.0, 1 - s), 1 + s)), _uniform((-h, h)))
        ops = (self._brightness, self._contrast, self._saturation, self._hue)
        for index in np.random.permutation(4):
            img = ops[index](img, factors[index])
        results[self.key] = img
        return results

    @staticmethod
    def _brightness(img: np.ndarray, factor: float) -> np.ndarray:
        return cv2.convertScaleAbs(img, alpha=factor)

    @staticmethod
    def _contrast(img: np.ndarray, factor: float) -> np.ndarray:
        mean = int(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean() + 0.5)
        return cv2.addWeighted(img, factor, img, 0.0, (1 - factor) * mean)

    @staticmethod
    def _saturation(img: np.ndarray, factor: float) -> np.ndarray:
        return cv2.addWeighted(img, factor, _gray3(img), 1 - factor, 0.0)

    @staticmethod
    def _hue(img: np.ndarray, shift: float) -> np.ndarray:
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
        hsv[..., 0] += np.uint8(int(round(shift * 255)) % 256)
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(strengths={self.strengths}, prob={self.prob}, key={self.key!r})'


@register('TRANSFORMS')
class RandomGrayscaleView(BaseTransform):
    """torchvision's ``RandomGrayscale(p)`` on one BGR uint8 image key (luma kept in 3 channels).

    Args:
        prob: Probability of converting an image.
        key: Image key.
    """

    def __init__(self, prob: float = 0.2, key: str = 'img_guidance') -> None:
        self.prob = prob
        self.key = key

    def transform(self, results: dict) -> dict:
        img = check_image(results, self.key, type(self).__name__)
        if np.random.rand() < self.prob:
            results[self.key] = _gray3(img)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, key={self.key!r})'


@register('TRANSFORMS')
class LMIMTwoView(BaseTransform):
    """LMIM's clean and guidance views: ``img`` -> ``img`` (clean) and ``img_guidance``, both resized.

    Runs :class:`GuidanceAugment`, :class:`ResizeViews`, :class:`ColorJitterView` and
    :class:`RandomGrayscaleView` with the paper's settings (each configurable).

    Args:
        size: Output (H, W) of both views.
        guidance: Keyword arguments of :class:`GuidanceAugment`.
        color_jitter: Keyword arguments of :class:`ColorJitterView`.
        grayscale_prob: Probability of a grayscale guidance view.
        interpolation: Resize interpolation.
        backend: Resize backend, ``'cv2'`` or ``'pillow'``.
    """

    def __init__(self, size: Sequence[int] = (32, 128), guidance: Optional[dict] = None,
                 color_jitter: Optional[dict] = None, grayscale_prob: float = 0.2, interpolation: str = 'bicubic',
                 backend: str = 'cv2') -> None:
        self.steps = (
            GuidanceAugment(**(guidance or {}), src_key='img', dst_key='img_guidance'),
            ResizeViews(size, ('img', 'img_guidance'), interpolation, backend),
            ColorJitterView(**(color_jitter or {}), key='img_guidance'),
            RandomGrayscaleView(grayscale_prob, key='img_guidance'),
        )

    def transform(self, results: dict) -> dict:
        for step in self.steps:
            results = step(results)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(steps={self.steps})'


@register('TRANSFORMS')
class PackTwoViewInputs(PackInputs):
    """Pack the views as mmpretrain's multi-view ``PackInputs`` does, for ``SelfSupDataPreprocessor``.

    ``inputs`` becomes ``[clean (3, H, W) uint8, guidance (3, H, W) uint8]`` (BGR; the data
    preprocessor converts to RGB with ``to_rgb=True`` and normalises) and ``data_samples`` an
    mmpretrain ``DataSample`` carrying ``mask`` (from a mask transform) when present. Collate
    with ``default_collate``.

    Args:
        view_keys: Image keys of the views, in model order.
        algorithm_keys: Further keys to put in the data sample.
        meta_keys: Keys put in the data sample's metainfo.
    """

    def __init__(self, view_keys: Sequence[str] = ('img', 'img_guidance'), algorithm_keys: Sequence[str] = (),
                 meta_keys: Sequence[str] = PackInputs.DEFAULT_META_KEYS) -> None:
        super().__init__(input_key='img', algorithm_keys=algorithm_keys, meta_keys=meta_keys)
        self.view_keys = tuple(view_keys)

    def transform(self, results: dict) -> dict:
        views = [check_image(results, key, type(self).__name__) for key in self.view_keys]
        return super().transform({**results, self.input_key: views})

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(view_keys={self.view_keys}, algorithm_keys={self.algorithm_keys}, '
                f'meta_keys={self.meta_keys})')
