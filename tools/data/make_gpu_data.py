"""Make the LMDBs of ``tools/gpu_run.sh``: rendered words plus real unlabeled word images.

Usage::

    python tools/data/make_gpu_data.py OUT [--real FOLDER ...] [--num-train 3200] [--num-test 500]
                                           [--num-unlabeled 3000] [--workers N]

Writes ``OUT/train``, ``OUT/test`` (labeled) and ``OUT/unlabeled`` with :func:`lmim_synth.synthetic.make_synthetic` (it needs
wordfreq, which the offline wheelhouse leaves out: make the folder where it is installed and bring it along), and
``OUT/real_unlabeled``: every image of the ``--real`` folders (e.g. IIIT5K's and SVT's training images), resized to
32 x 128 - the size the pretraining pipeline resizes to first - and stored as PNG, so the folder stays small.
"""
import argparse
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2

from lmim_mm.datasets.sources import write_lmdb
from lmim_synth.synthetic import make_synthetic

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', type=Path, help='output folder')
    parser.add_argument('--real', type=Path, nargs='*', default=[], help='folders of real word images (searched '
                        'recursively)')
    parser.add_argument('--num-train', type=int, default=3200)
    parser.add_argument('--num-test', type=int, default=500)
    parser.add_argument('--num-unlabeled', type=int, default=3000)
    parser.add_argument('--workers', type=int, default=1, help='rendering processes')
    return parser.parse_args(argv)


def resized_png_samples(files: Sequence[Path], size: Tuple[int, int] = (32, 128)) -> Iterator[Tuple[bytes, None]]:
    """``(png_bytes, None)`` of each image resized (bicubic) to ``size`` (H, W).

    Raises:
        ValueError: an image OpenCV cannot read (its path named).
    """
    for path in files:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'{path}: not a readable image')
        yield cv2.imencode('.png', cv2.resize(img, size[::-1], interpolation=cv2.INTER_CUBIC))[1].tobytes(), None


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    written = make_synthetic(args.out, dict(train=args.num_train, test=args.num_test, unlabeled=args.num_unlabeled),
                             seed=0, workers=args.workers)
    print(f'{written} rendered images -> {args.out}')
    files = sorted(p for folder in args.real for p in folder.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES)
    if files:
        written = write_lmdb(resized_png_samples(files), args.out / 'real_unlabeled', total=len(files))
        print(f'{written} real images -> {args.out / "real_unlabeled"}')


if __name__ == '__main__':
    main()
