"""Read words with a trained recognizer.

Usage: python tools/infer.py CONFIG CHECKPOINT PATH [--batch-size 64] [--device cpu] [--out preds.jsonl] [--strict]
       python tools/infer.py --onnx EXPORT_DIR PATH [--batch-size 64] [--out preds.jsonl] [--strict]

PATH is an image, a folder of images (or ``IMG/``), or a labeled folder (``IMG/`` + ``label/``). Prints
``<image> <word> <confidence>`` per image; for a labeled folder it ends with one JSON line
``{"n", ...}`` with the figures of the config's test metrics (:class:`~lmim_mm.evaluation.TextScorer`:
``word_acc``, ``word_acc_ignore_case_symbol``, ``1-N.E.D`` for Latin scripts, ``sentence_acc``,
``1-N.E.D`` for Chinese); ``--out`` also writes one JSON line per image (``{"image", "text",
"score"}``, plus ``"label"`` for a labeled folder), and a progress bar runs on stderr. An image that
cannot be read (empty, undecodable, truncated, too large) is named with the reason on stderr and in
``--out`` (``{"image", "error"}``) and the others are still read; the summary on stderr counts both,
and the exit status is 1 when any image failed (``--strict``: stop at the first, with its error).
Runs mmocr's ``TextRecInferencer`` on the config and checkpoint, so anything that works here works in
mmocr's own inference API. With ``--onnx`` it reads with an export of ``tools/deployment/pytorch2onnx.py``
on onnxruntime (:mod:`lmim_mm.deploy`): the dictionary, settings and test metrics come from the export,
no config or checkpoint is needed. Both paths read through :meth:`lmim_mm.apis.WordReader.read_inputs`, so they
decode the same pixels and word their errors alike.
"""
import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Tuple

if TYPE_CHECKING:
    from lmim_mm.evaluation import TextScorer


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
    parser.add_argument('--strict', action='store_true', help='stop at the first image that cannot be read')
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
    from lmim_mm.datasets.sources import FolderSource

    if Path(path).is_file():
        return [path], None
    source = FolderSource(path)
    return [img for img, _ in source.files], [label for _, label in source.files] if source.labeled else None


def report(images: List[str], results: List[dict], labels: Optional[List[str]], scorer: 'TextScorer',
           out: Optional[str] = None) -> int:
    """Print ``<image> <word> <confidence>`` per image read and, with labels, the JSON summary of ``scorer``'s
    metrics on them; with ``out``, also write ``{"image", "text", "score"[, "label"]}`` per image read and
    ``{"image", "error"[, "label"]}`` per image that failed as JSON lines to that file. The counts go to stderr.

    Returns:
        The exit status: 0 when every image was read, 1 otherwise.
    """
    read = [i for i, result in enumerate(results) if 'error' not in result]
    for i in read:
        print(f'{images[i]}\t{results[i]["text"]}\t{results[i]["scores"]:.4f}')
    if labels is not None:
        print(json.dumps(dict(n=len(read), **scorer.score([results[i]['text'] for i in read],
                                                           [labels[i] for i in read]))))
    if out is not None:
        with open(out, 'w', encoding='utf-8') as f:
            for index, (image, result) in enumerate(zip(images, results)):
                line = dict(image=image, error=result['error']) if 'error' in result else dict(
                    image=image, text=result['text'], score=float(result['scores']))
                if labels is not None:
                    line['label'] = labels[index]
                f.write(json.dumps(line, ensure_ascii=False) + '\n')
    failed = len(images) - len(read)
    print(f'{len(read)} of {len(images)} images read, {failed} could not be read'
          + (' (named above, with the reason)' if failed else ''), file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    args = parse_args()
    from lmim_mm.apis import build_word_reader

    images, labels = collect_inputs(args.path)
    reader = build_word_reader(args.config, args.checkpoint, args.onnx, args.device)
    results = reader.read_inputs(images, args.batch_size, strict=args.strict, progress=True)
    return report(images, results, labels, reader.scorer, args.out)


if __name__ == '__main__':
    sys.exit(main())
