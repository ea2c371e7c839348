"""LMIM's two views of a word image (METHOD.md sec. 3) on mmpretrain's ``MultiView``, random from numpy's and
Python's global RNGs (mmengine seeds them in every dataloader worker). mmpretrain's ``PackInputs`` packs the views
into ``inputs`` (and a mask transform's ``results['mask']`` into ``data_samples.mask``); ``SelfSupDataPreprocessor``
normalises them (mean = std = 127.5, BGR -> RGB)::

    pipeline = [dict(type='LMIMTwoView'), dict(type='RandomPatchMaskGenerator', ratio=0.8), dict(type='PackInputs')]
"""
from typing import Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, RandomApply, RandomGrayscale, Resize
from mmpretrain.datasets.transforms import ColorJitter, MultiView
from mmpretrain.registry import TRANSFORMS

from lmim_mm.utils.options import check_bounds, check_number

Range = Tuple[float, float]

#: The guidance operations of LMIM's "medium" augmentation, in the authors' order.
GUIDANCE_OPS = ('linear_contrast', 'gaussian_blur', 'crop_vertical', 'crop_horizontal', 'sharpen', 'rotate',
                'piecewise_affine', 'perspective', 'solarize', 'grayscale')
#: :class:`GuidanceAugment`'s (low, high) ranges: the paper's value and the limits a given one must stay within.
RANGES = dict(contrast=((0.5, 1.0), (0.0, None)), blur_sigma=((0.5, 1.5), (0.0, None)),
              crop_vertical=((0.0, 0.1), (0.0, 0.45)), crop_horizontal=((0.0, 0.02), (0.0, 0.45)),
              sharpen_alpha=((0.0, 0.5), (0.0, 1.0)), sharpen_lightness=((0.0, 0.5), (0.0, None)),
              piecewise_scale=((0.03, 0.05), (0.0, None)), perspective_scale=((0.02, 0.06), (0.0, None)),
              solarize_threshold=((32, 128), (0.0, 256.0)), grayscale_alpha=((0.0, 1.0), (0.0, 1.0)))


def check_image(results: dict, owner: str) -> np.ndarray:
    """``results['img']`` as an H x W x 3 uint8 image, or an error naming the transform and the sample."""
    name = next((f'{key}={results[key]!r}' for key in ('img_path', 'sample_idx') if key in results), 'sample')
    img = results.get('img')
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 or 0 in img.shape:
        got = f'{img.dtype} array of shape {img.shape}' if isinstance(img, np.ndarray) else type(img).__name__
        raise ValueError(f"{owner}: 'img' of {name} must be an H x W x 3 uint8 image, got {got}")
    return img


def _uniform(bounds: Range) -> float:
    return float(np.random.uniform(bounds[0], bounds[1]))


def _tent_weights(size: int, points: int) -> np.ndarray:
    """(size, points) linear interpolation weights from ``points`` knots spanning [0, size - 1]."""
    knots = np.linspace(0, size - 1, points)
    weights = np.clip(1 - np.abs(np.arange(size)[:, None] - knots[None, :]) / max(knots[1] - knots[0], 1e-6), 0, None)
    return (weights / weights.sum(1, keepdims=True)).astype(np.float32)


@TRANSFORMS.register_module()
class GuidanceAugment(BaseTransform):
    """LMIM's appearance augmentation of ``results['img']``, imgaug's ``SomeOf``: ``min_ops`` to ``max_ops`` operations
    in random order at the original resolution (rotation enlarges the image to fit), laws per image as the authors':

    - ``linear_contrast``: ``127 + alpha * (v - 127)``, alpha ~ U(``contrast``);
    - ``gaussian_blur``: sigma ~ U(``blur_sigma``), kernel ``max(int(3.3 sigma), 5)`` (odd);
    - ``crop_vertical`` / ``crop_horizontal``: each side loses U(``crop_*``) of the height / width, then the image is
      resized back (bicubic);
    - ``sharpen``: kernel ``(1 - a) I + a [[-1, -1, -1], [-1, 8 + l, -1], [-1, -1, -1]]``, a ~ U(``sharpen_alpha``),
      l ~ U(``sharpen_lightness``);
    - ``rotate``: U(-``rotate``, ``rotate``) degrees, bilinear, black corners (``mmcv.imrotate``);
    - ``piecewise_affine``: a 2-4 x 2-4 grid of control points moved by N(0, s) x (H, W), s ~ U(``piecewise_scale``),
      interpolated bilinearly over the image (``cv2.remap``; imgaug warps triangles with scikit-image);
    - ``perspective``: each corner moved inwards by ``|N(0, s)|`` x (W, H), s ~ U(``perspective_scale``);
    - ``solarize``: with probability ``solarize_prob``, values >= t ~ U(``solarize_threshold``) inverted;
    - ``grayscale``: blend with the luma image, alpha ~ U(``grayscale_alpha``).

    Args:
        min_ops, max_ops: Fewest and most operations per image; ``max_ops=None``: all of ``ops``.
        ops: A subset of :data:`GUIDANCE_OPS` (e.g. the geometric ones for the paper's "weak" ablation).
        ranges: (low, high) ranges named in :data:`RANGES`, overriding the paper's.
    """

    def __init__(self, min_ops: int = 3, max_ops: Optional[int] = None, ops: Sequence[str] = GUIDANCE_OPS,
                 rotate: float = 15.0, solarize_prob: float = 0.5, **ranges: Range) -> None:
        owner = type(self).__name__
        unknown = sorted(set(ops) - set(GUIDANCE_OPS)) + sorted(set(ranges) - set(RANGES))
        if unknown or not ops:
            raise ValueError(f'{owner}: ops must be a non-empty subset of {GUIDANCE_OPS} and ranges among '
                             f'{tuple(RANGES)}, unknown: {unknown}')
        self.ops = tuple(ops)
        self.max_ops = len(self.ops) if max_ops is None else max_ops
        if not 0 <= min_ops <= self.max_ops <= len(self.ops):
            raise ValueError(f'{owner}: need 0 <= min_ops <= max_ops <= {len(self.ops)}, got {min_ops} and {max_ops}')
        self.min_ops = min_ops
        self.rotate = check_number(owner, 'rotate', rotate, 0.0, 180.0)
        self.solarize_prob = check_number(owner, 'solarize_prob', solarize_prob, 0.0, 1.0)
        self.ranges = {name: check_bounds(owner, name, ranges.get(name, paper), *limits)
                       for name, (paper, limits) in RANGES.items()}

    def transform(self, results: dict) -> dict:
        """Replace ``results['img']`` by its augmented copy."""
        img = check_image(results, type(self).__name__)
        for name in np.random.choice(self.ops, np.random.randint(self.min_ops, self.max_ops + 1), replace=False):
            img = self.apply(name, img)
        results['img'] = img
        return results

    def apply(self, name: str, img: np.ndarray) -> np.ndarray:
        """Operation ``name`` of :data:`GUIDANCE_OPS` on an H x W x 3 uint8 image, with fresh parameters."""
        h, w = img.shape[:2]
        if name == 'linear_contrast':
            table = 127 + _uniform(self.ranges['contrast']) * (np.arange(256, dtype=np.float32) - 127)
            return cv2.LUT(img, np.clip(table, 0, 255).astype(np.uint8))
        if name == 'gaussian_blur':
            sigma = _uniform(self.ranges['blur_sigma'])
            size = max(int(3.3 * sigma), 5) | 1
            return cv2.GaussianBlur(img, (size, size), sigma, borderType=cv2.BORDER_REFLECT_101)
        if name in ('crop_vertical', 'crop_horizontal'):
            extent = h if name == 'crop_vertical' else w
            start, end = (round(_uniform(self.ranges[name]) * extent) for _ in range(2))
            if start + end == 0 or start + end >= extent:
                return img
            crop = img[start:h - end] if name == 'crop_vertical' else img[:, start:w - end]
            return cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC)
        if name == 'sharpen':
            alpha, lightness = _uniform(self.ranges['sharpen_alpha']), _uniform(self.ranges['sharpen_lightness'])
            kernel = np.full((3, 3), -alpha, dtype=np.float32)
            kernel[1, 1] = 1 - alpha + alpha * (8 + lightness)
            return cv2.filter2D(img, -1, kernel)
        if name == 'rotate':
            return mmcv.imrotate(img, _uniform((-self.rotate, self.rotate)), auto_bound=True)
        if name == 'piecewise_affine':
            rows, cols = np.random.randint(2, 5, size=2)
            jitter = np.random.normal(0.0, _uniform(self.ranges['piecewise_scale']), (2, rows, cols)).astype(np.float32)
            weights_y, weights_x = _tent_weights(h, rows), _tent_weights(w, cols)
            map_y = weights_y @ (jitter[0] * h) @ weights_x.T + np.arange(h, dtype=np.float32)[:, None]
            map_x = weights_y @ (jitter[1] * w) @ weights_x.T + np.arange(w, dtype=np.float32)
            return cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if name == 'perspective':
            inset = np.mod(np.abs(np.random.normal(0.0, _uniform(self.ranges['perspective_scale']), size=(4, 2))), 1)
            corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float32)
            scale = np.array([w, h], dtype=np.float32)
            matrix = cv2.getPerspectiveTransform(((corners + (1 - 2 * corners) * inset) * scale).astype(np.float32),
                                                 corners * scale)
            return cv2.warpPerspective(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        if name == 'solarize':
            inverts = np.random.rand() < self.solarize_prob
            return mmcv.solarize(img, _uniform(self.ranges['solarize_threshold'])) if inverts else img
        alpha = _uniform(self.ranges['grayscale_alpha'])
        return cv2.addWeighted(cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR), alpha, img,
                               1 - alpha, 0)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ops={self.ops}, min_ops={self.min_ops}, max_ops={self.max_ops})'


@TRANSFORMS.register_module()
class LMIMTwoView(MultiView):
    """mmpretrain's ``MultiView`` with LMIM's clean and guidance pipelines: ``img`` -> ``[clean, guidance]``.

    Clean: mmcv's ``Resize`` to ``size``. Guidance: :class:`GuidanceAugment` at the original resolution, ``Resize``,
    mmpretrain's ``ColorJitter`` in mmcv's ``RandomApply`` and mmcv's ``RandomGrayscale`` (ITU-R 601 luma weights).
    The jitter runs on OpenCV (twice as fast as pillow here): within one grey level of the authors' torchvision-on-PIL
    arithmetic except for hue (8-bit HSV round trip); ``color_jitter=dict(backend='pillow')`` is torchvision exactly.

    Args:
        size: Output (H, W) of both views.
        guidance: Keyword arguments of :class:`GuidanceAugment`.
        color_jitter: Keyword arguments of mmpretrain's ``ColorJitter`` (paper: 0.4, 0.4, 0.2, 0.1; cv2).
        color_jitter_prob, grayscale_prob: Probabilities of a jittered and of a grayscale guidance view.
        interpolation, backend: Of ``Resize`` (bicubic as the authors' torchvision one; ``'cv2'`` or ``'pillow'``).
    """

    def __init__(self, size: Sequence[int] = (32, 128), guidance: Optional[dict] = None,
                 color_jitter: Optional[dict] = None, color_jitter_prob: float = 0.8, grayscale_prob: float = 0.2,
                 interpolation: str = 'bicubic', backend: str = 'cv2') -> None:
        if len(size) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in size):
            raise ValueError(f'LMIMTwoView: size must be two positive ints (H, W), got {size!r}')
        resize = dict(scale=(size[1], size[0]), keep_ratio=False, interpolation=interpolation, backend=backend)
        jitter = ColorJitter(**{**dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1, backend='cv2'),
                                **(color_jitter or {})})
        super().__init__(num_views=[1, 1], transforms=[[Resize(**resize)], [
            GuidanceAugment(**(guidance or {})), Resize(**resize),
            RandomApply([jitter], prob=check_number('LMIMTwoView', 'color_jitter_prob', color_jitter_prob, 0.0, 1.0)),
            RandomGrayscale(check_number('LMIMTwoView', 'grayscale_prob', grayscale_prob, 0.0, 1.0),
                            keep_channels=True, channel_weights=(0.114, 0.587, 0.299)),
        ]])

    def transform(self, results: dict) -> dict:
        """``results['img']`` (H x W x 3 uint8 BGR) -> ``[clean, guidance]``, each (size[0], size[1], 3)."""
        check_image(results, type(self).__name__)
        return super().transform(results)
