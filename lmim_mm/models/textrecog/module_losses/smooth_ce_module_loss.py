from typing import Dict, Union

import torch.nn as nn
from mmocr.models.common.dictionary import Dictionary
from mmocr.models.textrecog.module_losses import CEModuleLoss
from mmocr.registry import MODELS


@MODELS.register_module()
class SmoothCEModuleLoss(CEModuleLoss):
    """mmocr's ``CEModuleLoss`` with ``nn.CrossEntropyLoss(label_smoothing=...)`` (the authors' ``--smoothing``).

    Args:
        dictionary: mmocr ``Dictionary`` or its config.
        label_smoothing: Mass spread uniformly over the classes, in [0, 1).
        **kwargs: ``CEModuleLoss`` arguments (``max_seq_len``, ``ignore_char``, ``reduction``, ...).
    """

    def __init__(self, dictionary: Union[Dict, Dictionary], label_smoothing: float = 0.0, **kwargs) -> None:
        super().__init__(dictionary=dictionary, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.loss_ce = nn.CrossEntropyLoss(ignore_index=self.ignore_index, reduction=self.loss_ce.reduction,
                                           label_smoothing=label_smoothing)
