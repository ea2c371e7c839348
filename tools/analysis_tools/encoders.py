"""A config's encoder and a batch of word images for encoder analyses (token statistics, probes)."""
import os.path as osp
from itertools import islice
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config

from lmim_mm.datasets.folder_dataset import list_folder_samples
from lmim_mm.datasets.lmdb_utils import decode_image, iter_lmdb
from lmim_mm.models.backbones import TextViT
from lmim_mm.utils.checkpoint import load_pretrained

#: normalisation of every config here (mean = std = 127.5 on [0, 255])
PIXEL_MEAN = PIXEL_STD = 127.5


def build_backbone(config: str, checkpoint: Optional[str] = None, prefix: Optional[str] = 'backbone.') -> TextViT:
    """``model.backbone`` of ``config`` with all tokens as output, randomly initialised (the global
    torch seed decides) or loaded strictly from ``checkpoint`` under ``prefix``.

    Raises:
        ValueError: ``model.backbone`` is not a TextViT (naming the config).
    """
    cfg = dict(Config.fromfile(config).model.backbone)
    if cfg.pop('type', None) not in ('TextViT', 'mmpretrain.TextViT'):
        raise ValueError(f'{config}: model.backbone must be a TextViT')
    cfg.pop('init_cfg', None)
    backbone = TextViT(**dict(cfg, out_type='raw'))
    if checkpoint:
        load_pretrained(backbone, checkpoint, prefix=prefix or None)
    return backbone


def _encoded_samples(path: str, labeled: bool) -> Iterator[Tuple[str, bytes, Optional[str]]]:
    """``(name, image bytes, label or None)`` of an LMDB or an image folder, in index order."""
    if osp.isfile(osp.join(path, 'data.mdb')):
        for index, (img_bytes, label) in enumerate(iter_lmdb(path), 1):
            if labeled and label is None:
                raise ValueError(f'{path}: sample {index} has no label')
            yield f'{path}: sample {index}', img_bytes, label
    else:
        for file, label in list_folder_samples(path, labeled=labeled):
            yield file, Path(file).read_bytes(), label


def read_word_images(path: str, num: Optional[int], img_size: Sequence[int], in_channels: int = 3,
                     labeled: bool = False, skip: int = 0) -> Tuple[torch.Tensor, List[Optional[str]]]:
    """Word images of an LMDB or a folder, resized (bicubic) and normalised as in training.

    Args:
        path: LMDB directory, labeled folder (``IMG/`` + ``label/``) or image folder.
        num: Number of images (None: all).
        img_size: (H, W) of the encoder's input.
        in_channels: 3 (RGB) or 1 (grayscale).
        labeled: Read the labels too (an unlabeled sample is then an error).
        skip: Samples to skip first (e.g. the ones a probe trained on).

    Returns:
        Images (N, in_channels, H, W) float and their labels (None when not ``labeled``).

    Raises:
        FileNotFoundError: ``path`` does not exist, or holds no image past ``skip``.
        ValueError: an image cannot be decoded or a sample lacks its label (naming it), or
            ``in_channels`` is neither 1 nor 3.
    """
    if in_channels not in (1, 3):
        raise ValueError(f'in_channels must be 1 or 3, got {in_channels}')
    if not osp.exists(path):
        raise FileNotFoundError(f'data not found: {path}')
    height, width = img_size
    images: List[np.ndarray] = []
    labels: List[Optional[str]] = []
    stop = None if num is None else skip + num
    for name, img_bytes, label in islice(_encoded_samples(path, labeled), skip, stop):
        img = decode_image(img_bytes)
        if img is None:
            raise ValueError(f'cannot decode image {name}')
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_CUBIC)
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[..., None] if in_channels == 1 else img[..., ::-1]
        images.append(img)
        labels.append(label)
    if not images:
        raise FileNotFoundError(f'no image in {path} past the first {skip}')
    return (torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() - PIXEL_MEAN) / PIXEL_STD, labels


@torch.no_grad()
def encode_patch_tokens(backbone: TextViT, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Patch tokens (no [cls]) of ``images`` in eval mode: (N, C, H, W) -> (N, L, D)."""
    backbone.eval()
    return torch.cat([backbone(images[i:i + batch_size])[0][:, 1:] for i in range(0, len(images), batch_size)])
