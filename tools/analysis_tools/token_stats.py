"""How distinct are an encoder's patch tokens? Collapse check for pretrained backbones.

Usage::

    python tools/analysis_tools/token_stats.py CONFIG [CHECKPOINT ...] --data LMDB_OR_FOLDER \
        [--num-images 256] [--prefix backbone.] [--random] [--out stats.json]

Builds ``model.backbone`` of CONFIG (a TextViT) once per checkpoint, loads the checkpoint's tensors
under ``--prefix`` strictly (``backbone.`` fits our MAE / LMIM / recognizer checkpoints, ``''`` a
bare or authors' state dict), encodes the first ``--num-images`` images of an LMDB or an image
folder (resized to the backbone's input, bicubic, normalised as in training) and prints one JSON
line per encoder with :func:`lmim_mm.evaluation.token_stats.token_feature_stats`: ``cos_within`` near
1 and ``within_image_var`` near 0 mean the tokens of a word are nearly alike, a poor start for a
recognizer. ``--random`` adds the randomly initialised backbone as a reference.
"""
import argparse
import json
import os.path as osp
from itertools import islice
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import torch
from mmengine.config import Config

from lmim_mm.datasets.folder_dataset import list_folder_samples
from lmim_mm.datasets.lmdb_utils import decode_image, iter_lmdb
from lmim_mm.evaluation.token_stats import token_feature_stats
from lmim_mm.models.backbones import TextViT
from lmim_mm.utils.checkpoint import load_pretrained

#: normalisation of every config here (mean = std = 127.5 on [0, 255])
PIXEL_MEAN = PIXEL_STD = 127.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config whose model.backbone is a TextViT')
    parser.add_argument('checkpoints', nargs='*', help='checkpoints to compare')
    parser.add_argument('--data', required=True, help='LMDB directory or image folder (IMG/ or plain)')
    parser.add_argument('--num-images', type=int, default=256)
    parser.add_argument('--prefix', default='backbone.', help="key prefix of the backbone ('' = none)")
    parser.add_argument('--random', action='store_true', help='also report the randomly initialised backbone')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random initialisation')
    parser.add_argument('--out', help='also write {name: stats} to this JSON file')
    return parser.parse_args()


def read_images(path: str, num: int, img_size: tuple) -> torch.Tensor:
    """The first ``num`` images of an LMDB or folder as a normalised RGB batch (N, 3, H, W).

    Raises:
        FileNotFoundError: ``path`` does not exist, or holds no image.
        ValueError: an image cannot be decoded (naming it).
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'data not found: {path}')
    if osp.isfile(osp.join(path, 'data.mdb')):
        encoded = ((f'{path}: sample {index}', img_bytes) for index, (img_bytes, _) in enumerate(iter_lmdb(path), 1))
    else:
        encoded = ((file, Path(file).read_bytes()) for file, _ in list_folder_samples(path, labeled=False))
    height, width = img_size
    images: List[np.ndarray] = []
    for name, img_bytes in islice(encoded, num):
        img = decode_image(img_bytes)
        if img is None:
            raise ValueError(f'cannot decode image {name}')
        images.append(cv2.resize(img, (width, height), interpolation=cv2.INTER_CUBIC)[..., ::-1])
    if not images:
        raise FileNotFoundError(f'no image in {path}')
    return (torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() - PIXEL_MEAN) / PIXEL_STD


def build_backbone(config: str) -> TextViT:
    """``model.backbone`` of ``config`` with all tokens as output and its random init (no pretrained init)."""
    cfg = dict(Config.fromfile(config).model.backbone)
    if cfg.pop('type', None) != 'TextViT':
        raise ValueError(f'{config}: model.backbone must be a TextViT')
    cfg.pop('init_cfg', None)
    return TextViT(**dict(cfg, out_type='raw'))


@torch.no_grad()
def encoder_stats(backbone: TextViT, images: torch.Tensor, batch_size: int = 128) -> Dict[str, float]:
    """:func:`token_feature_stats` of the patch tokens (no [cls]) of ``images``."""
    backbone.eval()
    tokens = torch.cat([backbone(images[i:i + batch_size])[0][:, 1:] for i in range(0, len(images), batch_size)])
    return token_feature_stats(tokens)


def main() -> Dict[str, Dict[str, float]]:
    args = parse_args()
    if not args.checkpoints and not args.random:
        raise SystemExit('nothing to measure: give checkpoints and/or --random')
    backbone = build_backbone(args.config)
    images = read_images(args.data, args.num_images, backbone.patch_embed.img_size)
    results: Dict[str, Dict[str, float]] = {}
    for checkpoint in ([None] if args.random else []) + args.checkpoints:
        torch.manual_seed(args.seed)
        backbone = build_backbone(args.config)
        if checkpoint:
            load_pretrained(backbone, checkpoint, prefix=args.prefix or None)
        name = checkpoint or 'random'
        results[name] = dict(num_images=len(images), **encoder_stats(backbone, images))
        print(json.dumps(dict(encoder=name, **{k: round(v, 4) for k, v in results[name].items()})), flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
