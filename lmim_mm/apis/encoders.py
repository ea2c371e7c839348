"""A recognizer config's encoder on word images (read as its test reads them), and statistics of its patch tokens."""
import copy
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import MODELS, DefaultScope

from lmim_mm.datasets.image_io import read_image
from lmim_mm.datasets.sources import DatasetFormatError, open_source
from lmim_mm.models.backbones import TextViT
from lmim_mm.utils import register_all_modules
from lmim_mm.utils.checkpoint import load_pretrained


def read_encoder_inputs(config: str, data: str, num: Optional[int] = None, skip: int = 0,
                        labeled: bool = False) -> Tuple[torch.Tensor, List[Optional[str]]]:
    """Word images as the recognizer of the config file ``config`` reads them in testing: its test pipeline (without
    ``LoadOCRAnnotations``, as mmocr's inferencer runs it) and its ``model.data_preprocessor``.

    Args:
        data: Any data source (:func:`lmim_mm.datasets.open_source`).
        num: Number of images (None: all), read after skipping ``skip`` samples (e.g. the ones a probe trained on).

    Returns:
        Normalised images (N, C, H, W) and their labels (read when ``labeled``, else None).

    Raises:
        FileNotFoundError: ``data`` does not exist or holds no sample past ``skip``.
        DatasetFormatError / ImageDecodeError / KeyError: an unlabeled source for ``labeled``, an undecodable image
            (naming it), a config without test pipeline.
    """
    cfg = Config.fromfile(config)
    source = open_source(data)
    if labeled and not source.labeled:
        raise DatasetFormatError(f'{data}: unlabeled; labeled words are needed here')
    indices = range(skip, len(source) if num is None else min(len(source), skip + num))
    if not indices:
        raise FileNotFoundError(f'no image in {data} past the first {skip}')
    try:
        transforms = cfg.test_dataloader.dataset.pipeline
    except AttributeError as err:
        raise KeyError(f'{config}: no test_dataloader.dataset.pipeline (a recognizer config has one)') from err
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        pipeline = Compose([t for t in copy.deepcopy(transforms) if not t['type'].endswith('LoadOCRAnnotations')])
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
    try:
        samples = [pipeline(dict(img=read_image(source.image(i), source.img_path(i)), img_path=source.img_path(i)))
                   for i in indices]
        labels = [source.label(i) if labeled else None for i in indices]
    finally:
        source.close()
    with torch.no_grad():
        return preprocessor(pseudo_collate(samples), training=False)['inputs'].float(), labels


def build_backbone(config: str, checkpoint: Optional[str] = None, prefix: Optional[str] = 'backbone.') -> TextViT:
    """``model.backbone`` of ``config`` (a ``ValueError`` naming the config if not a TextViT) with all tokens as output,
    randomly initialised (the global torch seed decides) or loaded strictly from ``checkpoint`` under ``prefix``."""
    cfg = dict(Config.fromfile(config).model.backbone)
    if cfg.pop('type', None) not in ('TextViT', 'mmpretrain.TextViT'):
        raise ValueError(f'{config}: model.backbone must be a TextViT')
    cfg.pop('init_cfg', None)
    backbone = TextViT(**dict(cfg, out_type='raw'))
    if checkpoint:
        load_pretrained(backbone, checkpoint, prefix=prefix or None)
    return backbone


@torch.no_grad()
def encode_patch_tokens(backbone: TextViT, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Patch tokens (no [cls]) of ``images`` in eval mode: (N, C, H, W) -> (N, L, D)."""
    backbone.eval()
    return torch.cat([backbone(images[i:i + batch_size])[0][:, 1:] for i in range(0, len(images), batch_size)])


def token_feature_stats(tokens: torch.Tensor) -> Dict[str, float]:
    """Summarise ``tokens``, the patch tokens (no [cls]) of N images, (N, L, C) with L >= 2 (else a ``ValueError``).
    A decoder reads a word by attending to its characters' tokens one after the other, so they must differ with the
    character and position under them; a pretraining run whose target is easy to predict from the whole image (a weak
    teacher) can end with an image's tokens nearly alike.

    Returns:
        ``cos_within``: mean cosine similarity of two different tokens of the same image (1: all point one way);
        ``within_image_var``: share of the feature variance left after subtracting each image's mean token - what
        tells characters and positions in a word apart;
        ``position_var``: share of the variance explained by the token position alone (the mean over images);
        ``effective_rank``: exp of the entropy of the normalised squared singular values of the centred tokens
        (Roy & Vetterli, 2007), between 1 and C.
        Tokens without variance (all equal up to rounding) give 0 for the three last.
    """
    if tokens.dim() != 3 or tokens.shape[1] < 2:
        raise ValueError(f'tokens must be (N, L >= 2, C), got {tuple(tokens.shape)}')
    tokens = tokens.detach().double()
    unit = F.normalize(tokens, dim=-1)
    # |sum of unit vectors|^2 = all pairwise cosines + the diagonal (1 per non-zero token)
    pair_sums = unit.sum(dim=1).pow(2).sum(-1) - unit.pow(2).sum(dim=(1, 2))
    cos_within = (pair_sums / (tokens.shape[1] * (tokens.shape[1] - 1))).mean()
    centred = tokens - tokens.mean(dim=(0, 1))
    total_var = centred.pow(2).mean()
    stats = dict(cos_within=cos_within.item(), within_image_var=0.0, position_var=0.0, effective_rank=0.0)
    if total_var > 1e-12 * tokens.pow(2).mean():  # else rounding noise, not variance
        stats['within_image_var'] = ((tokens - tokens.mean(dim=1, keepdim=True)).pow(2).mean() / total_var).item()
        stats['position_var'] = (centred.mean(dim=0).pow(2).mean() / total_var).item()
        energy = torch.linalg.svdvals(centred.flatten(0, 1)).pow(2)
        share = energy[energy > 0] / energy.sum()
        stats['effective_rank'] = torch.exp(-(share * share.log()).sum()).item()
    return stats
