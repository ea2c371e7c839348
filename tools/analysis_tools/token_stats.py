"""How distinct are an encoder's patch tokens? Collapse check for pretrained backbones.

Usage::

    python tools/analysis_tools/token_stats.py CONFIG [CHECKPOINT ...] --data DATA \
        [--num-images 256] [--prefix backbone.] [--random] [--out stats.json]

Builds ``model.backbone`` of the recognizer CONFIG (a TextViT) once per checkpoint, loads the checkpoint's
tensors under ``--prefix`` strictly (``backbone.`` fits our MAE / LMIM / recognizer checkpoints, ``''`` a
bare or authors' state dict), encodes the first ``--num-images`` images of DATA (an LMDB, an image folder,
an MMOCR JSON or a path<TAB>label text file) read through CONFIG's test pipeline and prints one JSON line per
encoder with :func:`lmim_mm.apis.encoders.token_feature_stats`: ``cos_within`` near 1 and
``within_image_var`` near 0 mean the tokens of a word are nearly alike, a poor start for a recognizer.
``--random`` adds the randomly initialised backbone as a reference.
"""
import argparse
import json
from typing import Dict

import torch

from lmim_mm.apis.encoders import build_backbone, encode_patch_tokens, read_encoder_inputs, token_feature_stats


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='recognizer config whose model.backbone is a TextViT')
    parser.add_argument('checkpoints', nargs='*', help='checkpoints to compare')
    parser.add_argument('--data', required=True, help='LMDB, image folder (IMG/ or plain), MMOCR JSON or '
                        'path<TAB>label text file')
    parser.add_argument('--num-images', type=int, default=256)
    parser.add_argument('--prefix', default='backbone.', help="key prefix of the backbone ('' = none)")
    parser.add_argument('--random', action='store_true', help='also report the randomly initialised backbone')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random initialisation')
    parser.add_argument('--out', help='also write {name: stats} to this JSON file')
    return parser.parse_args()


def main() -> Dict[str, Dict[str, float]]:
    args = parse_args()
    if not args.checkpoints and not args.random:
        raise SystemExit('nothing to measure: give checkpoints and/or --random')
    images, _ = read_encoder_inputs(args.config, args.data, args.num_images)
    results: Dict[str, Dict[str, float]] = {}
    for checkpoint in ([None] if args.random else []) + args.checkpoints:
        torch.manual_seed(args.seed)
        backbone = build_backbone(args.config, checkpoint, args.prefix)
        name = checkpoint or 'random'
        results[name] = dict(num_images=len(images), **token_feature_stats(encode_patch_tokens(backbone, images)))
        print(json.dumps(dict(encoder=name, **{k: round(v, 4) for k, v in results[name].items()})), flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
