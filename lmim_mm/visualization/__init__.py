"""Drawing helpers for pictures of runs (numpy / OpenCV / Pillow); training curves are drawn by
``tools/analysis_tools/plot_curves.py``."""
from .images import (captioned, colorbar_strip, compose, grey_out, heatmap, letterbox, save_rgb, text_strip,
                     to_rgb_uint8, token_to_pixel_mask, upscale)

__all__ = [
    'captioned', 'colorbar_strip', 'compose', 'grey_out', 'heatmap', 'letterbox', 'save_rgb', 'text_strip',
    'to_rgb_uint8', 'token_to_pixel_mask', 'upscale'
]
