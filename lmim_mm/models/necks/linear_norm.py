from typing import Any, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmocr.registry import MODELS


@MODELS.register_module()
class LinearNorm(BaseModule):
    """``LayerNorm(Linear(x))`` on every token (the authors' ``linear_norm``); in mmocr's ``EncoderDecoderRecognizer``
    it sits in the ``encoder`` slot, called with ``data_samples`` it ignores.

    Args:
        in_channels: Token width of the backbone (384 for ViT-S).
        out_channels: Decoder width (512).
    """

    def __init__(self, in_channels: int = 384, out_channels: int = 512,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.linear = nn.Linear(in_channels, out_channels)
        self.norm = nn.LayerNorm(out_channels)

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
                data_samples: Optional[Sequence[Any]] = None) -> torch.Tensor:
        """Tokens (N, L, in_channels), or a backbone's tuple whose last item they are -> (N, L, out_channels)."""
        if isinstance(inputs, (tuple, list)):
            inputs = inputs[-1]
        if inputs.dim() != 3:
            raise ValueError(f'LinearNorm expects tokens (N, L, C), got shape {tuple(inputs.shape)}; '
                             "use a backbone with out_type='raw'")
        return self.norm(self.linear(inputs))
