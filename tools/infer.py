"""Read words with a trained recognizer.

Usage: python tools/infer.py CONFIG CHECKPOINT PATH [--batch-size 64] [--device cpu] [--out preds.jsonl]
       python tools/infer.py --onnx EXPORT_DIR PATH [--batch-size 64] [--out preds.jsonl]

PATH is an image, a folder of images, or a labeled folder (``IMG/`` + ``label/``). Prints
``<image> <word> <confidence>`` per image; for a labeled folder it ends with one JSON line
``{"n", ...}`` with the figures of the config's test metrics (:class:`~lmim_mm.evaluation.TextScorer`:
``word_acc``, ``word_acc_ignore_case_symbol``, ``1-N.E.D`` for Latin scripts, ``sentence_acc``,
``1-N.E.D`` for Chinese); ``--out`` also writes one JSON line per image (``{"image", "text",
"score"}``, plus ``"label"`` for a labeled folder), and a progress bar runs on stderr. Runs mmocr's
``TextRecInferencer`` on the config and checkpoint, so anything that works here works in mmocr's own
inference API. With ``--onnx`` it reads with an export of ``tools/deployment/pytorch2onnx.py`` on
onnxruntime (:mod:`lmim_mm.deploy`): the dictionary, settings and test metrics come from the export,
no config or checkpoint is needed.
"""
import argparse
import json
import os.path as osp
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

from tqdm import tqdm

if TYPE_CHECKING:
    from lmim_mm.evaluation import TextScorer

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', nargs='+', metavar='CONFIG CHECKPOINT PATH',
                        help='CONFIG CHECKPOINT PATH, or PATH alone with --onnx; PATH: image, folder of images, '
                        'or labeled folder (IMG/ + label/)')
    parser.add_argument('--onnx', metavar='DIR', default=None,
                        help='read with this ONNX export (tools/deployment/pytorch2onnx.py) on onnxruntime')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--device', default=None, help='cpu / cuda (default: cuda when available)')
    parser.add_argument('--out', help='also write one JSON line per image to this file (.jsonl)')
    args = parser.parse_args()
    if len(args.inputs) != (1 if args.onnx else 3):
        parser.error('expected CONFIG CHECKPOINT PATH, or --onnx DIR PATH')
    args.config, args.checkpoint = (None, None) if args.onnx else args.inputs[:2]
    args.path = args.inputs[-1]
    return args


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


def read_in_batches(read: Callable[[list], list], items: list, batch_size: int) -> list:
    """``read`` applied to consecutive batches of ``items``, results concatenated; a progress bar on stderr."""
    results = []
    with tqdm(total=len(items), desc='reading', unit='img', file=sys.stderr) as bar:
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            results += read(batch)
            bar.update(len(batch))
    return results


def report(images: List[str], predictions: List[dict], labels: Optional[List[str]], scorer: 'TextScorer',
           out: Optional[str] = None) -> None:
    """Print ``<image> <word> <confidence>`` per image and, with labels, the JSON summary of ``scorer``'s
    metrics; with ``out``, also write ``{"image", "text", "score"[, "label"]}`` per image as JSON lines to
    that file."""
    for image, pred in zip(images, predictions):
        print(f'{image}\t{pred["text"]}\t{pred["scores"]:.4f}')
    if labels is not None:
        print(json.dumps(dict(n=len(labels), **scorer.score([p['text'] for p in predictions], labels))))
    if out is not None:
        with open(out, 'w', encoding='utf-8') as f:
            for index, (image, pred) in enumerate(zip(images, predictions)):
                line = dict(image=image, text=pred['text'], score=float(pred['scores']))
                if labels is not None:
                    line['label'] = labels[index]
                f.write(json.dumps(line, ensure_ascii=False) + '\n')


def onnx_main(args: argparse.Namespace) -> int:
    """Read with an ONNX export on onnxruntime."""
    from lmim_mm.deploy import ONNXRecognizer
    from lmim_mm.evaluation import TextScorer

    images, labels = collect_inputs(args.path)
    recognizer = ONNXRecognizer(args.onnx)
    settings = recognizer.settings  # the export's test metrics score as the PyTorch path, else the dictionary's
    words = read_in_batches(lambda batch: recognizer.read_files(batch, batch_size=args.batch_size), images,
                            args.batch_size)
    scorer = TextScorer(settings.metrics) if settings.metrics else TextScorer.for_dictionary(settings.classes)
    report(images, [dict(text=text, scores=score) for text, score in words], labels, scorer, args.out)
    return 0


def main() -> int:
    args = parse_args()
    if args.onnx:
        return onnx_main(args)
    from mmocr.apis import TextRecInferencer

    from lmim_mm.datasets.image_io import read_image
    from lmim_mm.evaluation import TextScorer
    from lmim_mm.utils import register_all_modules
    from lmim_mm.utils.checkpoint import check_state_dict, load_state_dict_file

    register_all_modules(init_default_scope=False)
    for name in (args.config, args.checkpoint):
        if not osp.isfile(name):
            raise FileNotFoundError(f'not found: {name}')
    images, labels = collect_inputs(args.path)
    inferencer = TextRecInferencer(model=args.config, weights=args.checkpoint, device=args.device)
    # mmocr loads weights leniently (a log warning); refuse a checkpoint that does not fit, as test.py does
    check_state_dict(inferencer.model, load_state_dict_file(args.checkpoint), source=args.checkpoint)

    def read(paths: List[str]) -> list:
        # images are read as in training and testing (an unusable one is an error naming it), a batch at a time
        arrays = [read_image(Path(path).read_bytes(), path) for path in paths]
        return inferencer(arrays, batch_size=args.batch_size, progress_bar=False)['predictions']

    predictions = read_in_batches(read, images, args.batch_size)
    report(images, predictions, labels, TextScorer.from_config(inferencer.cfg), args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
