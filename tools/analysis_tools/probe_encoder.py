"""How readable are an encoder's features? A linear CTC probe on frozen patch tokens.

Usage::

    python tools/analysis_tools/probe_encoder.py CONFIG [CHECKPOINT ...] --data LABELED \
        [--test-data LABELED] [--num-train 2000] [--num-test 500] [--steps 300] [--seeds 0 1] \
        [--random] [--prefix backbone.] [--out probe.json]

Builds ``model.backbone`` of the recognizer CONFIG (a TextViT), loads each checkpoint's tensors under
``--prefix`` strictly (``backbone.`` fits our MAE / LMIM / recognizer checkpoints), reads ``--num-train``
labeled words of ``--data`` and ``--num-test`` held-out words (the next ones of ``--data``, or the first ones
of ``--test-data``) through CONFIG's test pipeline, encodes them once, then trains
:class:`lmim_mm.apis.probe.LinearCTCProbe` (the column CTC head) on the frozen tokens per seed and prints one
JSON line per encoder and seed: word accuracy (case and symbols ignored) on the training and the held-out
words. ``--random`` adds the randomly initialised backbone. A higher probe accuracy means features a
recognizer can read more easily; use it to compare pretraining checkpoints without fine-tuning them.
"""
import argparse
import json
from typing import Dict

import torch

from lmim_mm.apis.encoders import build_backbone, encode_patch_tokens, read_encoder_inputs
from lmim_mm.apis.probe import probe_encoder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='recognizer config whose model.backbone is a TextViT')
    parser.add_argument('checkpoints', nargs='*', help='checkpoints to probe')
    parser.add_argument('--data', required=True, help='labeled data (LMDB, IMG/ + label/ folder, MMOCR JSON, '
                        'path<TAB>label text) to train the probe on')
    parser.add_argument('--test-data', help='labeled held-out words (default: the words after --num-train of --data)')
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-test', type=int, default=500)
    parser.add_argument('--steps', type=int, default=300, help='probe training steps')
    parser.add_argument('--lr', type=float, default=0.1, help='peak learning rate of the probe (AdamW, cosine)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0], help='one probe per seed')
    parser.add_argument('--prefix', default='backbone.', help="key prefix of the backbone ('' = none)")
    parser.add_argument('--random', action='store_true', help='also probe the randomly initialised backbone')
    parser.add_argument('--init-seed', type=int, default=0, help='seed of the random initialisation')
    parser.add_argument('--out', help='also write {encoder: {seed: results}} to this JSON file')
    return parser.parse_args()


def main() -> Dict[str, Dict[int, Dict[str, float]]]:
    args = parse_args()
    if not args.checkpoints and not args.random:
        raise SystemExit('nothing to probe: give checkpoints and/or --random')
    train_images, train_words = read_encoder_inputs(args.config, args.data, args.num_train, labeled=True)
    test_images, test_words = read_encoder_inputs(args.config, args.test_data or args.data, args.num_test,
                                                  skip=0 if args.test_data else args.num_train, labeled=True)
    results: Dict[str, Dict[int, Dict[str, float]]] = {}
    for checkpoint in ([None] if args.random else []) + args.checkpoints:
        torch.manual_seed(args.init_seed)
        backbone = build_backbone(args.config, checkpoint, args.prefix)
        train_tokens = encode_patch_tokens(backbone, train_images)
        test_tokens = encode_patch_tokens(backbone, test_images)
        name = checkpoint or 'random'
        for seed in args.seeds:
            measured = probe_encoder(train_tokens, train_words, test_tokens, test_words, backbone.grid_size,
                                     steps=args.steps, lr=args.lr, seed=seed)
            measured = dict(num_train=len(train_words), num_test=len(test_words), **measured)
            results.setdefault(name, {})[seed] = measured
            print(json.dumps(dict(encoder=name, seed=seed, **{k: round(v, 4) for k, v in measured.items()})),
                  flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
