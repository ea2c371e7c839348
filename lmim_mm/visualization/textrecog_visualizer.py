"""mmocr's recognition visualizer, drawing each word with its score and right / wrong colour."""
from typing import Optional, Tuple

import numpy as np
from mmocr.registry import VISUALIZERS
from mmocr.structures import TextRecogDataSample
from mmocr.visualization import TextRecogLocalVisualizer

from .images import BLACK, GREEN, RED, letterbox, save_rgb, text_strip


@VISUALIZERS.register_module()
class ScoredTextRecogVisualizer(TextRecogLocalVisualizer):
    """mmocr's ``TextRecogLocalVisualizer`` (same arguments) drawing a word as one cell: the image letterboxed into
    ``cell_size`` ``(H, W)`` above the lines ``pred  (mean char score)`` and ``gt: ...``, green when the data sample is
    marked right (``pred_text.correct``, set by :class:`~lmim_mm.engine.hooks.RecognitionSamplesHook`), red when
    marked wrong, black when unmarked (``tools/test.py --show-dir``). Words are plain text (``$`` is no formula)."""

    def __init__(self, name: str = 'visualizer', cell_size: Tuple[int, int] = (64, 256), **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.cell_size = tuple(cell_size)

    def add_datasample(self, name: str, image: np.ndarray, data_sample: Optional[TextRecogDataSample] = None,
                       draw_gt: bool = True, draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       pred_score_thr: Optional[float] = None, out_file: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        """Draw ``image`` (RGB (H, W, 3) or grey) with the words of ``data_sample``; send the cell ((H + lines * 14, W,
        3) uint8 RGB, returned) to every backend (``show``: a window) and ``out_file``."""
        sample = data_sample if data_sample is not None else TextRecogDataSample()
        correct = sample.pred_text.get('correct') if 'pred_text' in sample else None
        colour = BLACK if correct is None else GREEN if correct else RED
        lines = []
        if draw_pred and 'pred_text' in sample:
            score = np.asarray(sample.pred_text.get('score', []), np.float64)  # per character
            lines.append((f'{sample.pred_text.item}  ({score.mean() if score.size else 0:.2f})', colour))
        if draw_gt and 'gt_text' in sample:
            lines.append((f'gt: {sample.gt_text.item}', colour))
        image = np.dstack([image] * 3) if image.ndim == 2 else image
        drawn = np.concatenate([letterbox(image, self.cell_size), text_strip(lines, self.cell_size[1])])
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        else:
            self.add_image(name, drawn, step)
        if out_file is not None:
            save_rgb(drawn, out_file)
        return drawn
