"""What dynamic int8 quantisation costs in accuracy, on a recognizer that reads (some) words.

No fine-tuned recognizer exists offline (the demo's do not read, see the README), so this fits the
demo's tiny recognizer (ViT-Tiny/8 + 2-layer decoder) to the first N IIIT5K *train* words until it
reads most of them, exports it (fp32) and quantises the export (int8), and reads with both: the
N fitted words (what it learned) and the first N IIIT5K *test* words (unseen). Prints one JSON
line: WAICS of PyTorch, onnxruntime fp32 and int8 on both sets, and the share of words int8 reads as
fp32 does.

Usage (from the repository root): python -m benchmarks.int8_accuracy [--words 64] [--steps 400] [--threads 2]
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

from benchmarks.deploy_recognize import waics
from benchmarks.tiny_recognizer import TINY_CONFIG, build_recognizer, fit, labeled_batch, normalised_images
from lmim_mm.apis.export import export_recognizer, quantize_export
from lmim_mm.deploy import ONNXRecognizer, postprocess

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / '..' / 'shared' / 'data' / 'real_benchmarks'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--words', type=int, default=64)
    parser.add_argument('--steps', type=int, default=400)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--data-root', type=Path, default=DATA)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.data_root.resolve()
    batches = dict(fitted=labeled_batch(root / 'iiit5k_train', args.words)[0],
                   unseen=labeled_batch(root / 'iiit5k_test', args.words)[0])
    model = build_recognizer(TINY_CONFIG)
    losses = fit(model, batches['fitted'], args.steps, lr=args.lr)
    report = dict(words=args.words, steps=args.steps, final_loss=round(losses[-1], 4),
                  threads=torch.get_num_threads())
    with tempfile.TemporaryDirectory() as tmp:
        export_recognizer(model, Path(tmp) / 'fp32', normalised_images(model, batches['fitted'])[:2])
        quantize_export(Path(tmp) / 'fp32', Path(tmp) / 'int8')
        runtimes = {kind: ONNXRecognizer(Path(tmp) / kind, threads=torch.get_num_threads())
                    for kind in ('fp32', 'int8')}
        for name, batch in batches.items():
            labels = [s.gt_text.item for s in batch['data_samples']]
            with torch.no_grad():
                report[f'{name}_waics_pytorch'] = waics([s.pred_text.item for s in model.test_step(batch)], labels)
            images = normalised_images(model, batch).numpy()
            words = {}
            for kind, runtime in runtimes.items():
                words[kind] = [w for w, _ in postprocess(*runtime.decode(images, 1), runtime.settings)]
                report[f'{name}_waics_{kind}'] = waics(words[kind], labels)
            report[f'{name}_int8_same_words'] = sum(a == b for a, b in zip(words['fp32'], words['int8'])) / args.words
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
