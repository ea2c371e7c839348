"""Drawing helpers on RGB uint8 images (H, W, 3) in numpy / OpenCV / Pillow: panels, heat maps, captions, grids.
Text is drawn in matplotlib's DejaVu Sans (Latin, Greek, Cyrillic; characters it lacks, e.g. CJK, show as boxes)."""
import functools
import math
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import cv2
import matplotlib
import mmcv
import numpy as np
from PIL import Image, ImageDraw, ImageFont

Color = Tuple[int, int, int]
WHITE: Color = (255, 255, 255)
BLACK: Color = (0, 0, 0)
GREEN: Color = (0, 140, 0)
RED: Color = (200, 0, 0)
#: Height in pixels of one line of text drawn by :func:`text_strip`.
LINE_HEIGHT = 14
FONT_SIZE = 11


def to_rgb_uint8(img: np.ndarray, mean: Optional[np.ndarray] = None, std: Optional[np.ndarray] = None,
                 bgr: bool = False) -> np.ndarray:
    """A (C, H, W) image (C = 1 or 3, float normalised or uint8) as RGB uint8 (H, W, 3), a single channel
    repeated: ``mean`` / ``std`` (C,) undo a normalisation (None: none), ``bgr`` flips BGR channels."""
    if img.ndim != 3 or img.shape[0] not in (1, 3):
        raise ValueError(f'expected a (C, H, W) image with C = 1 or 3, got shape {img.shape}')
    img = img.astype(np.float32)
    if std is not None:
        img = img * np.asarray(std, np.float32).reshape(-1, 1, 1)
    if mean is not None:
        img = img + np.asarray(mean, np.float32).reshape(-1, 1, 1)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[..., ::-1] if bgr else img)


def grey_out(img: np.ndarray, pixel_mask: np.ndarray, strength: float = 0.75, grey: int = 128) -> np.ndarray:
    """Fade the pixels of ``pixel_mask`` (H, W) bool towards grey: ``(1 - s) * img + s * grey``."""
    faded = (1.0 - strength) * img.astype(np.float32) + strength * grey
    return np.where(pixel_mask[..., None], np.rint(faded).astype(np.uint8), img)


def heatmap(values: np.ndarray, valid: np.ndarray, patch_size: int, value_range: Tuple[float, float] = (-1.0, 1.0),
            cmap: str = 'viridis') -> np.ndarray:
    """Values (h, w) on the token grid as a (h * p, w * p, 3) uint8 image of ``patch_size`` p: ``value_range``
    mapped (clipped) to the ends of the matplotlib colour map ``cmap``, white where ``valid`` (h, w) is False."""
    low, high = value_range
    scaled = np.clip((values.astype(np.float64) - low) / (high - low), 0.0, 1.0)
    colours = np.rint(matplotlib.colormaps[cmap](scaled)[..., :3] * 255).astype(np.uint8)
    colours[~valid] = WHITE
    return upscale(colours, patch_size)


def upscale(img: np.ndarray, scale: int) -> np.ndarray:
    """Enlarge an image or a mask (h, w, ...) by an integer factor, nearest-neighbour (a token grid -> pixel mask)."""
    return img.repeat(scale, axis=0).repeat(scale, axis=1) if scale != 1 else img


def letterbox(img: np.ndarray, size: Tuple[int, int], fill: Color = WHITE) -> np.ndarray:
    """Resize ``img`` to fit inside ``size = (H, W)`` keeping its aspect ratio; pad right / bottom."""
    height, width = size
    factor = min(height / img.shape[0], width / img.shape[1])
    new_h, new_w = max(1, round(img.shape[0] * factor)), max(1, round(img.shape[1] * factor))
    out = np.full((height, width, 3), fill, np.uint8)
    out[:new_h, :new_w] = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_CUBIC)
    return out


@functools.cache
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / 'fonts' / 'ttf' / 'DejaVuSans.ttf'), FONT_SIZE)


def fit_text(text: str, width: int) -> str:
    """``text``, cut and ended with ``'..'`` if it is wider than ``width`` pixels."""
    font = _font()
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + '..') > width:
        text = text[:-1]
    return text + '..'


def text_strip(lines: Sequence[Tuple[str, Color]], width: int, background: Color = WHITE) -> np.ndarray:
    """Lines ``(text, rgb)`` cut to ``width``, each :data:`LINE_HEIGHT` high: (n * LINE_HEIGHT, width, 3) uint8."""
    canvas = Image.new('RGB', (width, LINE_HEIGHT * len(lines)), background)
    draw = ImageDraw.Draw(canvas)
    for row, (text, colour) in enumerate(lines):
        draw.text((2, row * LINE_HEIGHT), fit_text(text, width - 4), fill=colour, font=_font())
    return np.asarray(canvas)


def colorbar_strip(label: str, width: int, value_range: Tuple[float, float] = (-1.0, 1.0),
                   cmap: str = 'viridis') -> np.ndarray:
    """A title line ``label  low [colour ramp] high`` explaining a :func:`heatmap`: (LINE_HEIGHT, width, 3) uint8."""
    font = _font()
    low, high = (f'{v:g}' for v in value_range)
    head = f'{label}  {low} '
    start = 2 + math.ceil(font.getlength(head))
    end = width - 4 - math.ceil(font.getlength(high))
    if end - start < 8:
        raise ValueError(f'colour bar {head!r}..{high!r} does not fit in {width} pixels')
    canvas = Image.new('RGB', (width, LINE_HEIGHT), WHITE)
    draw = ImageDraw.Draw(canvas)
    draw.text((2, 0), head, fill=BLACK, font=font)
    draw.text((end + 2, 0), high, fill=BLACK, font=font)
    strip = np.array(canvas)
    strip[3:LINE_HEIGHT - 3, start:end] = np.rint(matplotlib.colormaps[cmap](np.linspace(0, 1, end - start))[:, :3]
                                                  * 255).astype(np.uint8)
    return strip


def compose(rows: Sequence[Sequence[np.ndarray]], pad: int = 4, fill: Color = WHITE) -> np.ndarray:
    """Lay non-empty rows (of any lengths) of (h, w, 3) uint8 images out in a grid (H, W, 3) uint8, each image top-left
    in a cell as tall as its row's tallest, as wide as its column's widest, framed by ``pad`` pixels of ``fill``."""
    if not rows or not all(len(row) for row in rows):
        raise ValueError(f'compose needs non-empty rows, got row lengths {[len(row) for row in rows]}')
    num_cols = max(len(row) for row in rows)
    heights = [max(img.shape[0] for img in row) for row in rows]
    widths = [max(row[j].shape[1] for row in rows if j < len(row)) for j in range(num_cols)]
    tops = np.cumsum([pad] + [h + pad for h in heights])
    lefts = np.cumsum([pad] + [w + pad for w in widths])
    out = np.full((tops[-1], lefts[-1], 3), fill, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            out[tops[i]:tops[i] + img.shape[0], lefts[j]:lefts[j] + img.shape[1]] = img
    return out


def save_rgb(img: np.ndarray, path: Union[str, Path]) -> Path:
    """Write an RGB uint8 image (PNG / JPEG by extension), creating parent folders; returns the path."""
    if not mmcv.imwrite(np.ascontiguousarray(img[..., ::-1]), str(path)):
        raise OSError(f'could not write image {path}')
    return Path(path)

