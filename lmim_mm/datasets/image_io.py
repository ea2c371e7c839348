"""The one way images are read, in training, testing and inference (:func:`read_image`)."""
import io
from typing import Optional

import cv2
import mmcv
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: Default pixel limit (width x height): 64 Mpixel, far above any word image, far below what
#: exhausts memory when decoded (OpenCV's own limit is 2^30).
MAX_IMAGE_PIXELS = 1 << 26
_ALPHA_MODES = frozenset({'RGBA', 'LA', 'PA', 'RGBa', 'La'})


class ImageDecodeError(ValueError):
    """An image that cannot be used; the message names it and says why."""


def _is_truncated(img_bytes: bytes) -> bool:
    """Whether JPEG / PNG bytes end before their end marker (decoders fill the rest silently). In JPEG entropy-coded
    data every 0xFF byte is stuffed (0xFF00) and restart markers are 0xFFD0-0xFFD7, so the end-of-image marker 0xFFD9
    after the last start-of-scan 0xFFDA is reliable."""
    if img_bytes.startswith(b'\xff\xd8'):
        return img_bytes.find(b'\xff\xd9', max(img_bytes.rfind(b'\xff\xda'), 0)) < 0
    if img_bytes.startswith(b'\x89PNG\r\n\x1a\n'):
        return img_bytes.rfind(b'IEND') < 0
    return False


def read_image(img_bytes: Optional[bytes], name: str, color_type: str = 'color', backend: str = 'cv2',
               max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode encoded image bytes, refusing anything that would give a wrong or partial image.

    Args:
        img_bytes: Encoded JPEG / PNG / ... bytes (``None``: the image is absent).
        name: The image's file path or LMDB key, for error messages.
        color_type: ``flag`` of :func:`mmcv.imfrombytes` (``'color'``: (H, W, 3) BGR; alpha composited on white, so
            a word drawn only in the alpha channel stays readable).
        backend: Decoding backend of :func:`mmcv.imfrombytes` for images without alpha.
        max_pixels: Largest width x height accepted (checked from the header, before decoding).

    Returns:
        The image, uint8, (H, W, 3) BGR for ``'color'``.

    Raises:
        ImageDecodeError: naming ``name``: empty data, bytes no decoder reads, JPEG / PNG files cut short (OpenCV
            would fill the rest with grey and only warn) or too large.
    """
    if not img_bytes:
        raise ImageDecodeError(f'{name}: empty image (0 bytes)')
    try:  # lazily: only the header is read
        img = Image.open(io.BytesIO(img_bytes))
    except Image.DecompressionBombError as err:  # Pillow's own limit, far above ours
        raise ImageDecodeError(f'{name}: too large ({err}), more than max_pixels={max_pixels}') from err
    except UnidentifiedImageError as err:  # its message names an in-memory buffer, not the file
        raise ImageDecodeError(f'{name}: not a decodable image (no image format recognised)') from err
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageDecodeError(f'{name}: not a decodable image ({type(err).__name__}: {err})') from err
    kind = img.format or 'image'
    with img:
        width, height = img.size
        if width * height > max_pixels:
            raise ImageDecodeError(f'{name}: {kind} of {width} x {height} = {width * height} pixels, more than '
                                   f'max_pixels={max_pixels}')
        if _is_truncated(img_bytes):
            raise ImageDecodeError(f'{name}: truncated {kind} (the file ends before its end marker)')
        if color_type == 'color' and (img.mode in _ALPHA_MODES or 'transparency' in img.info):
            try:  # composited on white, EXIF orientation applied as OpenCV does for the other images
                rgba = ImageOps.exif_transpose(img).convert('RGBA')
                rgb = Image.alpha_composite(Image.new('RGBA', rgba.size, (255, 255, 255, 255)), rgba).convert('RGB')
                return np.ascontiguousarray(np.asarray(rgb)[..., ::-1])
            except (OSError, ValueError) as err:
                raise ImageDecodeError(f'{name}: cannot decode {kind} ({err})') from err
    try:
        decoded = mmcv.imfrombytes(img_bytes, flag=color_type, backend=backend)
    except (cv2.error, OSError, ValueError) as err:
        raise ImageDecodeError(f'{name}: cannot decode {kind} ({type(err).__name__}: {err})') from err
    if decoded is None or decoded.size == 0:
        raise ImageDecodeError(f'{name}: cannot decode {kind}')
    return decoded
