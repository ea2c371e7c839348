"""Render a synthetic word-image dataset: labeled LMDBs train/val/test and an unlabeled LMDB.

Real English words (wordfreq) plus numbers, mixed case and punctuation, drawn with matplotlib's
DejaVu/STIX fonts and the system's Latin fonts, or with ``--lang zh`` real Chinese words (wordfreq) in
the system's CJK fonts (``fonts-wqy-zenhei``, installed by ``make setup``), under random colours,
gradients, blur, noise, rotation, perspective and crops (see :mod:`lmim_synth.synthetic`). The same seed
gives byte-identical LMDB values whatever ``--workers`` is. ``--difficulty`` scales those nuisances per
split, from 1 (full variety, the default) down to 0 (clean words in their font and colours).

Scene-text effects (:mod:`lmim_synth.scene_effects`) are on by default; ``--no-<effect>`` turns one off,
``--plain`` all of them. ``--grid PNG`` draws a picture of ``--grid-size`` train samples (``--only EFFECT``:
that effect alone, on every sample).

Example:
    python tools/data/make_synthetic.py --out data/synth --num-train 100000 --num-val 2000 \\
        --num-test 2000 --num-unlabeled 200000 --seed 0 --workers 8 --difficulty train=0.3 test=0.3
    python tools/data/make_synthetic.py --lang zh --num-train 2000 --num-test 200   # -> data/synth_zh
    python tools/data/make_synthetic.py --grid docs/images/renderer/curve.png --only curve
"""
import argparse
import dataclasses
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from lmim_mm.datasets.image_io import read_image
from lmim_mm.datasets.sources import Sample
from lmim_synth.scene_effects import SceneOptions, effect_names
from lmim_synth.synthetic import LANGUAGES, iter_samples, make_synthetic

SPLITS = ('train', 'val', 'test', 'unlabeled')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', help='output folder; gets train/ val/ test/ unlabeled/ (default: data/synth_LANG)')
    for split in SPLITS:
        parser.add_argument(f'--num-{split}', type=int, default=0, help=f'{split} images (0: not written)')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument('--workers', type=int, default=1, help='rendering processes')
    parser.add_argument('--difficulty', nargs='*', default=[], metavar='SPLIT=VALUE', type=split_value,
                        help='nuisance scale in [0, 1] per split (default 1 for every split)')
    parser.add_argument('--lang', default='en', choices=LANGUAGES, help='language of the words (default: en)')
    effects = parser.add_argument_group('scene effects (all on by default)')
    for option in dataclasses.fields(SceneOptions):
        if option.name in effect_names():
            effects.add_argument(f'--{option.name.replace("_", "-")}', action=argparse.BooleanOptionalAction,
                                 default=True, help=option.metadata['help'])
    effects.add_argument('--plain', action='store_true', help='no scene effect (overrides the flags above)')
    effects.add_argument('--only', choices=effect_names(), help='this effect alone, on every image (for pictures)')
    parser.add_argument('--grid', metavar='PNG', help='write a picture of --grid-size train samples')
    parser.add_argument('--grid-size', type=int, default=8, help='samples in the --grid picture (default 8)')
    args = parser.parse_args(argv)
    datasets = any(getattr(args, f'num_{split}') for split in SPLITS)
    if args.grid is None and not datasets:
        parser.error('nothing to write: give at least one of ' + ', '.join(f'--num-{split}' for split in SPLITS) +
                     ' (e.g. --num-train 2000 --num-test 200), or --grid PNG')
    if args.out is None and datasets:
        args.out = f'data/synth_{args.lang}'
    return args


def split_value(text: str) -> Tuple[str, float]:
    """``'train=0.3'`` -> ``('train', 0.3)``."""
    split, _, value = text.partition('=')
    try:
        return split, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected SPLIT=VALUE (e.g. train=0.3), got {text!r}') from None


def scene_options(args: argparse.Namespace) -> SceneOptions:
    """The :class:`SceneOptions` the flags ask for."""
    if args.only:
        return SceneOptions.only(args.only)
    if args.plain:
        return SceneOptions.off()
    return SceneOptions(**{name: getattr(args, name) for name in effect_names()})


def sample_grid(samples: Sequence[Sample], columns: int = 2, cell: Tuple[int, int] = (48, 224)) -> np.ndarray:
    """A picture of word images, each fitted into a ``cell`` (height, width) on grey, ``columns`` per row,
    with its label under it (if any, and ASCII: OpenCV's Hershey fonts draw nothing else).

    Returns:
        ``(rows * (cell height + 16), columns * cell width, 3)`` uint8 BGR image.
    """
    height, width = cell
    rows = -(-len(samples) // columns)
    grid = np.full((rows * (height + 16), columns * width, 3), 128, np.uint8)
    for k, (image_bytes, label) in enumerate(samples):
        img = read_image(image_bytes, label or f'sample {k}')
        scale = min(height / img.shape[0], (width - 4) / img.shape[1])
        img = cv2.resize(img, (max(1, int(img.shape[1] * scale)), max(1, int(img.shape[0] * scale))),
                         interpolation=cv2.INTER_AREA)
        top, left = (k // columns) * (height + 16), (k % columns) * width + 2
        grid[top:top + img.shape[0], left:left + img.shape[1]] = img
        caption = label if label and label.isascii() else ''
        cv2.putText(grid, caption, (left, top + height + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return grid


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    options = scene_options(args)
    difficulty = dict(args.difficulty)
    if args.grid:
        samples = list(iter_samples('train', args.grid_size, args.seed, difficulty=difficulty.get('train', 1.0),
                                    lang=args.lang, options=options))
        Path(args.grid).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(args.grid, sample_grid(samples), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f'{len(samples)} train samples ({options}) -> {args.grid}')
    if args.out is None:
        return
    sizes = {split: getattr(args, f'num_{split}') for split in SPLITS}
    start = time.perf_counter()
    written = make_synthetic(args.out, sizes, args.seed, args.workers, difficulty=difficulty, lang=args.lang,
                             options=options)
    seconds = time.perf_counter() - start
    total = sum(written.values())
    print(f'{total} images ({written}) in {seconds:.1f} s, {60 * total / max(seconds, 1e-9):.0f} images/min '
          f'with {args.workers} worker(s) -> {args.out}')


if __name__ == '__main__':
    main()
