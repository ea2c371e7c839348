"""Read words with a trained recognizer.

Usage: python tools/infer.py CONFIG CHECKPOINT PATH [--batch-size 64] [--device cpu]

PATH is an image, a folder of images, or a labeled folder (``IMG/`` + ``label/``). Prints
``<image> <word> <confidence>`` per image; for a labeled folder it ends with one JSON line
``{"n", "waics", "acc_case", "one_minus_ned"}``. Runs mmocr's ``TextRecInferencer`` on the config
and checkpoint, so anything that works here works in mmocr's own inference API.
"""
import argparse
import json
import os.path as osp
import re
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from rapidfuzz.distance import Levenshtein

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
NON_ALNUM = re.compile('[^A-Za-z0-9]')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('path', help='image, folder of images, or labeled folder (IMG/ + label/)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--device', default=None, help='cpu / cuda (default: cuda when available)')
    return parser.parse_args()


def collect_inputs(path: str) -> Tuple[List[str], Optional[List[str]]]:
    """Image paths under ``path`` and, for a labeled folder, their labels.

    Raises:
        FileNotFoundError: ``path`` does not exist or holds no image.
    """
    from lmim_mm.datasets.folder_dataset import list_folder_samples

    root = Path(path)
    if root.is_file():
        return [str(root)], None
    if not root.is_dir():
        raise FileNotFoundError(f'no such image or folder: {path}')
    if (root / 'IMG').is_dir() and (root / 'label').is_dir():
        samples = list_folder_samples(root, labeled=True)
        return [img for img, _ in samples], [label for _, label in samples]
    images = sorted(str(p) for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FileNotFoundError(f'{path} holds no image ({", ".join(IMAGE_SUFFIXES)})')
    return images, None


def summarize(preds: List[str], labels: List[str]) -> dict:
    """WAICS, case-sensitive accuracy and 1-NED (on the case- and symbol-free strings, as mmocr)."""
    def strip(text: str) -> str:
        return NON_ALNUM.sub('', text.lower())

    n = len(labels)
    waics = sum(strip(p) == strip(g) for p, g in zip(preds, labels)) / n
    acc_case = sum(p == g for p, g in zip(preds, labels)) / n
    ned = sum(Levenshtein.normalized_distance(strip(p), strip(g)) for p, g in zip(preds, labels)) / n
    return dict(n=n, waics=round(waics, 4), acc_case=round(acc_case, 4), one_minus_ned=round(1 - ned, 4))


def main() -> int:
    args = parse_args()
    from mmocr.apis import TextRecInferencer

    from lmim_mm.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    for name in (args.config, args.checkpoint):
        if not osp.isfile(name):
            raise FileNotFoundError(f'not found: {name}')
    images, labels = collect_inputs(args.path)
    inferencer = TextRecInferencer(model=args.config, weights=args.checkpoint, device=args.device)
    result = inferencer(images, batch_size=args.batch_size, progress_bar=False)
    preds = [p['text'] for p in result['predictions']]
    for image, pred in zip(images, result['predictions']):
        print(f'{image}\t{pred["text"]}\t{pred["scores"]:.4f}')
    if labels is not None:
        print(json.dumps(summarize(preds, labels)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
