"""Learning curves of the demo recognizer on held-out real train words, for choosing its recipe.

The model is the demo config's own recognizer (``configs/demo/recognizer_tiny.py``, built by mmocr, trained
through its ``loss``, read through its ``predict``), in a bare loop over images decoded and resized once
(the plain pipeline has no random step), so that variants run side by side on a few cores. Each batch holds
``real_share`` real train words (IIIT5K, SVT, ICDAR2015 train; every 10th word of each split held out and
never trained on) and rendered words (the demo's ``train`` LMDB); AdamW without decay on biases, norms and
tokens, linear warm-up over the first eighth, cosine to 1e-6, as the config. Every ``--eval-every`` steps
WAICS (%) on each held-out split and on 500 synthetic test words is printed as a JSON line. The real test
splits are not read. Needs the demo's rendered words (``make demo``, or ``tools/demo.py --prepare-only``).

    python -m benchmarks.demo_holdout_curves --name stem1 --cfg-options model.backbone.stem_depth=1
    python -m benchmarks.demo_holdout_curves --name stem2 --steps 2000 >> curves.jsonl
"""
import argparse
import copy
import json
import math
import random
import re
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction

from lmim_mm.evaluation import TextScorer

REPO = Path(__file__).resolve().parents[1]
REAL_SPLITS = ('iiit5k_train', 'svt_train', 'ic15_train')
HOLDOUT_EVERY = 10
Words = Tuple[torch.Tensor, List[str]]


def load_words(dataset_cfg: dict, limit: int = 0) -> Words:
    """Images (N, 3, 32, 128) uint8 and labels (spaces removed) of an mmocr dataset config (the first
    ``limit`` words when ``limit`` > 0)."""
    from mmocr.registry import DATASETS

    dataset = DATASETS.build(dataset_cfg)
    samples = [dataset[i] for i in range(min(len(dataset), limit) if limit > 0 else len(dataset))]
    return (torch.stack([s['inputs'] for s in samples]),
            [s['data_samples'].gt_text.item.replace(' ', '') for s in samples])


def split_real(words: Dict[str, Words]) -> Tuple[Words, Dict[str, Words]]:
    """Train words of all splits together, and the held-out words (every 10th) of each split."""
    train_images, train_texts, held_out = [], [], {}
    for split, (images, texts) in words.items():
        keep = [i for i in range(len(texts)) if i % HOLDOUT_EVERY]
        hold = [i for i in range(len(texts)) if i % HOLDOUT_EVERY == 0]
        held_out[split] = (images[hold], [texts[i] for i in hold])
        train_images.append(images[keep])
        train_texts += [texts[i] for i in keep]
    return (torch.cat(train_images), train_texts), held_out


def data_samples(texts: Sequence[str]) -> list:
    """mmocr data samples holding ``texts`` as ground truth, for 32x128 images."""
    from mmengine.structures import LabelData
    from mmocr.structures import TextRecogDataSample

    samples = []
    for text in texts:
        sample = TextRecogDataSample()
        sample.gt_text = LabelData(item=text)
        sample.set_metainfo(dict(valid_ratio=1.0, img_shape=(32, 128)))
        samples.append(sample)
    return samples


def restart_backbone_keys(model: torch.nn.Module, model_cfg: dict, pattern: str, seed: int) -> List[str]:
    """Put the backbone entries whose names (``pos_embed``, ``patch_embed.*``, ``layers.N.*``, ...) match the
    regular expression ``pattern`` back to a random init: that of a twin of ``model_cfg`` built and initialised
    without a checkpoint under ``seed``. Returns the names reset; a pattern matching no entry raises ``ValueError``
    (the run would otherwise start from the whole checkpoint)."""
    from mmocr.registry import MODELS

    names = list(model.backbone.state_dict())
    if not any(re.search(pattern, name) for name in names):
        raise ValueError(f'--random-keys {pattern!r} matches no backbone entry; they are named like {names[:3]}')
    twin_cfg = copy.deepcopy(model_cfg)
    if twin_cfg['backbone'].get('init_cfg'):
        twin_cfg['backbone']['init_cfg']['checkpoint'] = None
    torch.manual_seed(seed)
    twin = MODELS.build(twin_cfg)
    twin.init_weights()
    reset = {name: value for name, value in twin.backbone.state_dict().items() if re.search(pattern, name)}
    model.backbone.load_state_dict(reset, strict=False)
    return sorted(reset)


def waics(model: torch.nn.Module, words: Words, scorer: TextScorer, batch: int = 100) -> float:
    """Word accuracy ignoring case and symbols (%) by the config's test metrics, greedy decoding."""
    images, texts = words
    preds = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(texts), batch):
            data = model.data_preprocessor(dict(inputs=list(images[start:start + batch]),
                                                data_samples=data_samples(texts[start:start + batch])), False)
            preds += [p.pred_text.item for p in model.predict(data['inputs'], data['data_samples'])]
    model.train()
    return round(100 * scorer.score(preds, texts)['word_acc_ignore_case_symbol'], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--name', required=True, help='name of the variant in the JSON lines')
    parser.add_argument('--config', default=str(REPO / 'configs' / 'demo' / 'recognizer_tiny.py'))
    parser.add_argument('--real-root', default=str(REPO / '..' / 'shared' / 'data' / 'real_benchmarks'))
    parser.add_argument('--data-root', default=None, help="the demo's data folder (default: the config's data_root)")
    parser.add_argument('--limit', type=int, default=0, help='use the first N words of each set (0: all)')
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--real-share', type=float, default=0.5)
    parser.add_argument('--eval-every', type=int, default=500)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--random-keys', default=None,
                        help='regex: backbone entries it matches start from a random init, not the checkpoint')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='config overrides (the variant)')
    args = parser.parse_args()

    import mmocr.utils
    from mmocr.registry import MODELS

    import lmim_mm  # noqa: F401  (registers lmim_mm's modules)
    mmocr.utils.register_all_modules(init_default_scope=True)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    data_root = args.data_root or cfg.data_root
    pipeline = cfg.rendered_train_set.pipeline
    rendered = load_words(dict(cfg.rendered_train_set, data_root=f'{data_root}/train'), args.limit)
    synthetic = load_words(dict(cfg.test_sets.synthetic, data_root=f'{data_root}/test', pipeline=pipeline), args.limit)
    real_train, held_out = split_real({split: load_words(dict(type='RecogFolderDataset', pipeline=pipeline,
                                                              data_root=f'{args.real_root}/{split}'), args.limit)
                                       for split in REAL_SPLITS})
    model = MODELS.build(cfg.model)
    model.init_weights()  # loads model.backbone.init_cfg.checkpoint when one is given
    if args.random_keys:
        restart_backbone_keys(model, cfg.model, args.random_keys, args.seed)
    scorer = TextScorer.from_config(cfg)
    optimizer_cfg = cfg.optim_wrapper.optimizer
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim < 2 or 'token' in name or 'pos_embed' in name else decay).append(param)
    optimizer = torch.optim.AdamW([dict(params=decay, weight_decay=optimizer_cfg.weight_decay),
                                   dict(params=no_decay, weight_decay=0.0)], lr=optimizer_cfg.lr,
                                  betas=optimizer_cfg.betas)
    peak, warmup = optimizer_cfg.lr, args.steps // 8

    def lr_at(step: int) -> float:
        if step < warmup:
            return peak * (1e-3 + (1 - 1e-3) * step / warmup)
        return 1e-6 + (peak - 1e-6) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup)))

    num_real = round(args.batch * args.real_share)
    start, running = time.time(), 0.0
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group['lr'] = lr_at(step)
        real_index = torch.randint(len(real_train[1]), (num_real,))
        rendered_index = torch.randint(len(rendered[1]), (args.batch - num_real,))
        images = torch.cat([real_train[0][real_index], rendered[0][rendered_index]])
        texts = [real_train[1][i] for i in real_index] + [rendered[1][i] for i in rendered_index]
        data = model.data_preprocessor(dict(inputs=list(images), data_samples=data_samples(texts)), True)
        loss = sum(value for key, value in model.loss(data['inputs'], data['data_samples']).items() if 'loss' in key)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            record = dict(name=args.name, step=step + 1, loss=round(running, 3),
                          minutes=round((time.time() - start) / 60, 1),
                          **{split: waics(model, words, scorer) for split, words in held_out.items()},
                          synthetic=waics(model, (synthetic[0][:500], synthetic[1][:500]), scorer))
            print(json.dumps(record), flush=True)


if __name__ == '__main__':
    main()
