"""Pictures of runs: drawing helpers (numpy / OpenCV / Pillow) and mmocr's recognition visualizer drawn with them."""
from .images import colorbar_strip, compose, grey_out, heatmap, letterbox, save_rgb, text_strip, to_rgb_uint8, upscale
from .textrecog_visualizer import ScoredTextRecogVisualizer

__all__ = ['ScoredTextRecogVisualizer', 'colorbar_strip', 'compose', 'grey_out', 'heatmap', 'letterbox', 'save_rgb',
           'text_strip', 'to_rgb_uint8', 'upscale']
