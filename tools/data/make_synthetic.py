"""Render a synthetic word-image dataset: labeled LMDBs train/val/test and an unlabeled LMDB.

Real English words (wordfreq) plus numbers, mixed case and punctuation, drawn with matplotlib's
DejaVu/STIX fonts, or with ``--lang zh`` real Chinese words (wordfreq) in the system's CJK fonts
(``fonts-wqy-zenhei``, installed by ``make setup``), under random colours, gradients, blur, noise, rotation, perspective and crops
(see :mod:`tools.data.synthetic`). The same seed gives byte-identical LMDB values whatever
``--workers`` is. ``--difficulty`` scales those nuisances per split, from 1 (full variety, the
default) down to 0 (clean words in their font and colours).

Example:
    python tools/data/make_synthetic.py --out data/synth --num-train 100000 --num-val 2000 \
        --num-test 2000 --num-unlabeled 200000 --seed 0 --workers 8 --difficulty train=0.3 test=0.3
    python tools/data/make_synthetic.py --lang zh --num-train 2000 --num-test 200   # -> data/synth_zh
"""
import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tools.*

from tools.data.synthetic import LANGUAGES, make_synthetic  # noqa: E402

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
    args = parser.parse_args(argv)
    if not any(getattr(args, f'num_{split}') for split in SPLITS):
        parser.error('nothing to write: give at least one of ' + ', '.join(f'--num-{split}' for split in SPLITS) +
                     ' (e.g. --num-train 2000 --num-test 200)')
    if args.out is None:
        args.out = f'data/synth_{args.lang}'
    return args


def split_value(text: str) -> Tuple[str, float]:
    """``'train=0.3'`` -> ``('train', 0.3)``."""
    split, _, value = text.partition('=')
    try:
        return split, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected SPLIT=VALUE (e.g. train=0.3), got {text!r}') from None


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    sizes = {split: getattr(args, f'num_{split}') for split in SPLITS}
    start = time.perf_counter()
    written = make_synthetic(args.out, sizes, args.seed, args.workers, difficulty=dict(args.difficulty),
                             lang=args.lang)
    seconds = time.perf_counter() - start
    total = sum(written.values())
    print(f'{total} images ({written}) in {seconds:.1f} s, {60 * total / max(seconds, 1e-9):.0f} images/min '
          f'with {args.workers} worker(s) -> {args.out}')


if __name__ == '__main__':
    main()
