"""Recognizers for the int8 benchmark and the export / deployment tests: the configs' models, random or fitted for a
few steps."""
import copy
from pathlib import Path
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope

REPO = Path(__file__).resolve().parents[1]
#: The full-size recognizer (ViT-S/4 + 6-layer decoder) and the demo's tiny one (ViT-Tiny/8 + 2 layers).
VIT_S_CONFIG = REPO / 'configs' / '_base_' / 'models' / 'recognizer_vit_s.py'
TINY_CONFIG = REPO / 'configs' / 'demo' / 'recognizer_tiny.py'
#: mmocr's loading pipeline for labeled word images (as the test pipeline, plus the labels).
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 32), keep_ratio=False, interpolation='bicubic'),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='PackTextRecogInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]


def build_recognizer(config: Path, seed: int = 0) -> nn.Module:
    """The ``model`` of a config, its random weights drawn after ``torch.manual_seed(seed)`` (the same in any test
    order), in eval mode."""
    import mmocr.models  # noqa: F401  (registers mmocr's modules)
    from mmocr.registry import MODELS

    import lmim_mm.models  # noqa: F401  (registers ours)

    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmocr'):
        return MODELS.build(copy.deepcopy(Config.fromfile(str(config)).model)).eval()


def labeled_batch(folder: Path, count: int) -> Tuple[dict, List[str]]:
    """The first ``count`` words of a labeled folder (``IMG/i.png`` + ``label/i.txt``) through mmocr's pipeline.

    Returns:
        The collated batch and the image paths.
    """
    import mmocr.datasets  # noqa: F401  (registers mmocr's transforms)
    from mmocr.registry import TRANSFORMS

    paths = [folder / 'IMG' / f'{i}.png' for i in range(1, count + 1)]
    with DefaultScope.overwrite_default_scope('mmocr'):
        pipeline = Compose([TRANSFORMS.build(copy.deepcopy(t)) for t in PIPELINE])
        samples = [pipeline(dict(img_path=str(p), instances=[dict(text=(folder / 'label' / f'{p.stem}.txt')
                                                                       .read_text(encoding='utf-8').strip())]))
                   for p in paths]
    return pseudo_collate(samples), [str(p) for p in paths]


def fit(model: nn.Module, batch: dict, steps: int, lr: float = 1e-3, seed: int = 0) -> Sequence[float]:
    """Train ``model`` on one batch for ``steps`` AdamW steps (enough for a tiny model to emit EOS).

    Returns:
        The losses; the model is left in eval mode.
    """
    torch.manual_seed(seed)
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=lr))
    losses = [model.train_step(copy.deepcopy(batch), optim)['loss_ce'].item() for _ in range(steps)]
    model.eval()
    return losses


def normalised_images(model: nn.Module, batch: dict) -> torch.Tensor:
    """The batch's images as the model reads them (N, 3, H, W)."""
    with torch.no_grad():
        return model.data_preprocessor(copy.deepcopy(batch), training=False)['inputs']


__all__ = ['PIPELINE', 'TINY_CONFIG', 'VIT_S_CONFIG', 'build_recognizer', 'fit', 'labeled_batch',
           'normalised_images']
