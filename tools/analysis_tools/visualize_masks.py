"""Draw masks of the mask generators on a word image (random patch, blockwise, span, mixed).

Usage::

    python tools/analysis_tools/visualize_masks.py ../shared/data/real_benchmarks/iiit5k_test/IMG/1.png \
        --ratio 0.75 --num 4 --out masks.png

The image is resized to ``--img-size`` (32 x 128); per generator (the mask transforms of
:mod:`lmim_mm.datasets.transforms.mask_transform`) a title line (name, masked / all tokens) and ``--num``
masks drawn from ``--seed``, masked patches greyed.
"""
import argparse
from pathlib import Path
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from mmpretrain.registry import TRANSFORMS

from lmim_mm.datasets.transforms.mask_transform import BaseMaskGenerator
from lmim_mm.visualization import compose, grey_out, save_rgb, text_strip, upscale
from lmim_mm.visualization.images import BLACK

GENERATORS = ('RandomPatchMaskGenerator', 'BlockwiseMaskGenerator', 'SpanMaskGenerator', 'MixedMaskGenerator')


def read_word(path: str, img_size: Tuple[int, int]) -> np.ndarray:
    """RGB uint8 image resized to ``img_size = (H, W)``; an unreadable file is an error naming it."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {path}')
    return cv2.resize(img, img_size[::-1], interpolation=cv2.INTER_CUBIC)[..., ::-1]


def mask_rows(img: np.ndarray, generators: Sequence[BaseMaskGenerator], num: int, patch_size: int, scale: int,
              seed: int) -> List[List[np.ndarray]]:
    """Per generator a title row and a row of ``num`` masked copies of ``img``, for :func:`compose`."""
    rows = []
    for gen in generators:
        masks = gen.draw(num, np.random.default_rng(seed)).reshape(num, *gen.grid_size)
        panels = [upscale(grey_out(img, upscale(m, patch_size)), scale) for m in masks]
        title = f'{type(gen).__name__} ({gen.num_masked}/{gen.num_tokens})'
        rows += [[text_strip([(title, BLACK)], panels[0].shape[1])], panels]
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw token masks on a word image')
    parser.add_argument('image', help='word image file')
    parser.add_argument('--generators', nargs='+', default=list(GENERATORS), help='mask generator types')
    parser.add_argument('--ratio', type=float, default=0.75, help='masking ratio')
    parser.add_argument('--img-size', type=int, nargs=2, default=(32, 128), metavar=('H', 'W'))
    parser.add_argument('--patch-size', type=int, default=4)
    parser.add_argument('--num', type=int, default=4, help='masks per generator')
    parser.add_argument('--scale', type=int, default=2, help='integer enlargement')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='masks.png')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    height, width = args.img_size
    if height % args.patch_size or width % args.patch_size:
        raise ValueError(f'--img-size {args.img_size} is not divisible by --patch-size {args.patch_size}')
    grid = (height // args.patch_size, width // args.patch_size)
    generators = [TRANSFORMS.build(dict(_scope_='mmpretrain', type=name, ratio=args.ratio, grid_size=grid))
                  for name in args.generators]
    img = read_word(args.image, (height, width))
    rows = mask_rows(img, generators, args.num, args.patch_size, args.scale, args.seed)
    print(save_rgb(compose(rows), Path(args.out)))


if __name__ == '__main__':
    main()
