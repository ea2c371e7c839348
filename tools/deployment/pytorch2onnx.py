"""Export a trained recognizer to ONNX for onnxruntime: the encoder and one KV-cached decoder step.

Usage::

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT OUT_DIR [--check-images PATH] [--quantize int8]

Writes ``OUT_DIR/encoder.onnx`` and ``OUT_DIR/decoder_step.onnx`` with the dictionary and decoding
settings in their metadata (see :mod:`lmim_mm.apis.export`), checks them with
onnx's checker and against PyTorch on a batch (greedy and beam search must give the same tokens,
per-step probabilities within ``--tolerance``), and prints one JSON line with the check's figures.
``--quantize int8`` also writes dynamically quantised graphs to ``OUT_DIR/int8`` and reports how
often they read the check batch as the fp32 model does. Read words with
``python tools/infer.py --onnx OUT_DIR PATH``.
"""
import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

from lmim_mm.apis.export import compare_with_pytorch, deploy_settings, export_recognizer, quantize_export
from lmim_mm.datasets.sources import FolderSource
from lmim_mm.deploy import ONNXRecognizer, read_image, to_input
from lmim_mm.evaluation.scoring import metric_configs
from lmim_mm.utils import register_all_modules
from lmim_mm.utils.checkpoint import load_state_dict_file, load_strict
from lmim_mm.utils.run_config import merge_cfg_options


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out_dir')
    parser.add_argument('--check-images', type=Path, default=None,
                        help='image or folder whose first --check-batch images check the export (default: noise)')
    parser.add_argument('--check-batch', type=int, default=4)
    parser.add_argument('--beam-width', type=int, default=5, help='beam width checked besides greedy')
    parser.add_argument('--tolerance', type=float, default=1e-4, help='largest per-step probability difference')
    parser.add_argument('--quantize', choices=('int8', ), default=None,
                        help='also write dynamically int8-quantised graphs to OUT_DIR/int8')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args()


def check_batch(path: Path, count: int, settings) -> torch.Tensor:
    """The first ``count`` images of ``path`` (an image, or a folder read as :class:`FolderSource`), or uniform noise
    images without a path, normalised."""
    if path is None:
        rng = np.random.default_rng(0)
        images = [rng.integers(0, 256, (*settings.img_size, 3), dtype=np.uint8) for _ in range(count)]
    else:
        files = [path] if path.is_file() else [img for img, _ in FolderSource(str(path)).files]
        images = [read_image(p) for p in files[:count]]
    return torch.from_numpy(to_input(images, settings))


def build_recognizer(cfg: Config, checkpoint: str) -> torch.nn.Module:
    """The config's model with the checkpoint's weights (every key must match), in eval mode on the CPU."""
    from mmocr.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmocr'):
        model = MODELS.build(copy.deepcopy(cfg.model))
    load_strict(model, load_state_dict_file(checkpoint), source=checkpoint)
    return model.eval()


def main() -> int:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_cfg_options(cfg, args.cfg_options)
    model = build_recognizer(cfg, args.checkpoint)
    images = check_batch(args.check_images, args.check_batch, deploy_settings(model))
    out_dir = Path(args.out_dir)
    # the test metrics travel with the export: infer.py --onnx scores as the PyTorch path does
    metrics = metric_configs(cfg.test_evaluator) if cfg.get('test_evaluator') else ()
    export_recognizer(model, out_dir, images, metrics)
    widths = (1, args.beam_width)
    report = dict(out_dir=str(out_dir), check_images=len(images),
                  **compare_with_pytorch(model, ONNXRecognizer(out_dir), images, widths))
    diffs = {w: report[f'max_prob_diff_{w}'] for w in widths}  # None: the tokens differ
    failed = [w for w, diff in diffs.items() if diff is None or diff > args.tolerance]
    if args.quantize:
        quantize_export(out_dir, out_dir / 'int8')
        int8 = compare_with_pytorch(model, ONNXRecognizer(out_dir / 'int8'), images, widths)
        report.update({f'int8_{k}': v for k, v in int8.items()})
    print(json.dumps(report))
    if failed:
        print(f'export check FAILED for beam widths {failed} (1 = greedy): onnxruntime and PyTorch disagree beyond '
              f'{args.tolerance}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
