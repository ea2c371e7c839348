from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmocr.models.common.dictionary import Dictionary
from mmocr.models.textrecog.decoders import BaseDecoder
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample


@MODELS.register_module()
class ColumnCTCDecoder(BaseDecoder):
    """A linear CTC classifier over the token columns of a ViT, left to right. The patch tokens (the last ``H * W`` of
    the encoder output, row-major on the ``(H, W)`` grid) are averaged over each column's ``H`` rows (or concatenated,
    top to bottom); one linear layer maps each column to ``steps_per_column`` steps of class scores (two per column lets
    a 16-column grid hold a 24-character word with repeats). The CTC blank is the dictionary's padding class. It is the
    recognizer's auxiliary decoder (:class:`ViTRecognizer` ``aux_decoder``: joint CTC-attention, Kim et al., ICASSP
    2017), reads words on its own, and is the linear probe of :mod:`lmim_mm.apis.probe`.

    Args:
        in_channels: Token width (the encoder output's last dimension).
        dictionary: mmocr ``Dictionary`` (or its config) with a padding class.
        grid_size: Patch grid (H, W) of the backbone.
        column_pool: ``'mean'`` over a column's rows, or ``'concat'`` them (``in_channels`` = H x token width).
        module_loss: mmocr module loss (``CTCModuleLoss``).
        postprocessor: mmocr postprocessor (``CTCPostProcessor``).
        max_seq_len: Passed to mmocr's module loss / postprocessor.
    """

    def __init__(self, in_channels: int, dictionary: Union[Dict, Dictionary], grid_size: Tuple[int, int],
                 steps_per_column: int = 2, column_pool: str = 'mean',
                 module_loss: Optional[Dict] = dict(type='CTCModuleLoss', letter_case='unchanged', zero_infinity=True),
                 postprocessor: Optional[Dict] = dict(type='CTCPostProcessor'), max_seq_len: int = 25,
                 init_cfg: Optional[Union[Dict, Sequence[Dict]]] = None) -> None:
        super().__init__(dictionary, module_loss and dict(module_loss), postprocessor and dict(postprocessor),
                         max_seq_len, init_cfg)
        if self.dictionary.padding_idx is None:
            raise ValueError('ColumnCTCDecoder: the dictionary needs a padding class (the CTC blank); build it with '
                             'with_padding=True')
        if steps_per_column < 1:
            raise ValueError(f'ColumnCTCDecoder: steps_per_column must be >= 1, got {steps_per_column}')
        if column_pool not in ('mean', 'concat'):
            raise ValueError(f"ColumnCTCDecoder: column_pool must be 'mean' or 'concat', got {column_pool!r}")
        self.column_pool = column_pool
        self.grid_size = tuple(grid_size)
        self.steps_per_column = steps_per_column
        self.classifier = nn.Linear(in_channels, steps_per_column * self.dictionary.num_classes)

    def forward_train(self, feat: Optional[torch.Tensor] = None, out_enc: Optional[torch.Tensor] = None,
                      data_samples: Optional[Sequence[TextRecogDataSample]] = None) -> torch.Tensor:
        """Logits (N, W * steps_per_column, num_classes) of tokens ``out_enc`` (N, S >= H * W, C), [cls] ignored."""
        height, width = self.grid_size
        if out_enc.dim() != 3 or out_enc.shape[1] < height * width:
            raise ValueError(f'ColumnCTCDecoder expects tokens (N, >= {height * width}, C) for the grid '
                             f'{self.grid_size}, got shape {tuple(out_enc.shape)}')
        grid = out_enc[:, -height * width:].unflatten(1, (height, width))  # (N, H, W, C)
        columns = grid.mean(1) if self.column_pool == 'mean' else grid.transpose(1, 2).flatten(2)  # (N, W, C | H*C)
        return self.classifier(columns).unflatten(-1, (self.steps_per_column, -1)).flatten(1, 2)

    def forward_test(self, feat: Optional[torch.Tensor] = None, out_enc: Optional[torch.Tensor] = None,
                     data_samples: Optional[Sequence[TextRecogDataSample]] = None) -> torch.Tensor:
        """Class probabilities (N, W * steps_per_column, num_classes) for ``CTCPostProcessor``."""
        return self.forward_train(feat, out_enc, data_samples).softmax(-1)
