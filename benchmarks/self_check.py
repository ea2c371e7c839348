"""Check an installation (the last step of ``tools/install_into_env.sh``).

Usage (from the repository root)::

    python -m benchmarks.self_check [--device cuda|cpu] [--batch 4]

1. imports: lmim_mm, torchvision, mmcv with its compiled ops, mmengine, mmdet, mmocr (models and datasets) and
   mmpretrain (models); prints their versions and torch's;
2. one training step of the recognizer fine-tuning config's model (ViT-S/4 + 6-layer decoder, random weights)
   on a few random labeled 32 x 128 images on the device at hand (cuda when available, else cpu): data
   preprocessor, forward and backward as ``model.train_step`` runs them in an ``AmpOptimWrapper`` (bf16). The
   loss must be finite and every trainable encoder parameter must get a finite, non-zero gradient.

Prints one JSON line (versions, device, loss, seconds) and exits 0, or exits 1 naming what failed.
"""
import argparse
import importlib
import json
import sys
import time
from typing import Dict, List, Optional

import torch

#: Modules imported by the check, in order: lmim_mm first (its compat module lets mmocr and mmpretrain import on
#: numpy 2 / transformers 5), mmcv.ops loads the compiled mmcv._ext.
MODULES = ('lmim_mm', 'torchvision', 'mmcv', 'mmcv.ops', 'mmengine', 'mmdet', 'mmocr', 'mmocr.models',
           'mmocr.datasets', 'mmpretrain', 'mmpretrain.models')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', choices=('cuda', 'cpu'), default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch', type=int, default=4, help='random labeled images in the training step')
    return parser.parse_args(argv)


def import_versions() -> Dict[str, str]:
    """Import :data:`MODULES`; ``{package: version}`` (torch's with its CUDA version).

    Raises:
        ImportError: naming the module that failed and why.
    """
    versions = dict(torch=f'{torch.__version__} (CUDA {torch.version.cuda})')
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except Exception as error:  # any import-time failure of a third-party package
            raise ImportError(f'import {name} failed: {type(error).__name__}: {error}') from error
        if '.' not in name:
            versions[name] = getattr(module, '__version__', '?')
    return versions


def recognizer_step(device: str, batch: int) -> Dict[str, float]:
    """One bf16 ``train_step`` of the recognizer fine-tuning config's model; returns ``loss`` and ``seconds``.

    Raises:
        RuntimeError: a non-finite loss, or an encoder parameter without a finite non-zero gradient.
    """
    from benchmarks.pipeline import build_model, build_optim_wrapper, load_config, recognizer_batch

    cfg = load_config('recognizer', quick=False)
    model = build_model(cfg, device)
    wrapper = build_optim_wrapper(model, cfg, 'bf16')
    start = time.perf_counter()
    with wrapper.optim_context(model):  # what model.train_step does, with the gradients looked at before the step
        data = model.data_preprocessor(recognizer_batch(batch), True)
        losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    wrapper.backward(loss)
    if device == 'cuda':
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if not torch.isfinite(loss):
        raise RuntimeError(f'recognizer training step on {device}: non-finite loss {losses}')
    for name, param in model.backbone.named_parameters():
        if param.requires_grad and (param.grad is None or not torch.isfinite(param.grad).all()
                                    or not param.grad.abs().sum() > 0):
            raise RuntimeError(f'recognizer training step on {device}: backbone.{name} got no finite non-zero '
                               f'gradient')
    wrapper.step()
    return dict(loss=float(loss.detach()), seconds=seconds)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        versions = import_versions()
        step = recognizer_step(args.device, args.batch)
    except (ImportError, RuntimeError) as error:
        print(f'[self_check] FAILED: {error}', file=sys.stderr)
        return 1
    print(json.dumps(dict(ok=True, device=torch.cuda.get_device_name() if args.device == 'cuda' else 'cpu',
                          python=sys.version.split()[0], versions=versions, **step)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
