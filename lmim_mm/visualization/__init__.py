"""Pictures of runs: drawing helpers (numpy / OpenCV / Pillow) and training curves (matplotlib).

No GUI backend is used: figures are :class:`matplotlib.figure.Figure` objects saved directly.
"""
from .curves import find_scalars, key_series, plot_curves, read_scalars
from .images import (captioned, colorbar_strip, compose, grey_out, heatmap, letterbox, save_rgb, text_strip,
                     to_rgb_uint8, token_to_pixel_mask, upscale)

__all__ = [
    'captioned', 'colorbar_strip', 'compose', 'find_scalars', 'grey_out', 'heatmap', 'key_series', 'letterbox',
    'plot_curves', 'read_scalars', 'save_rgb', 'text_strip', 'to_rgb_uint8', 'token_to_pixel_mask', 'upscale'
]
