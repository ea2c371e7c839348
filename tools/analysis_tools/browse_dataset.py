"""Look at what a config's data pipeline feeds the model: one picture of the first samples.

Usage::

    python tools/analysis_tools/browse_dataset.py CONFIG [--phase train|val|test] [--num 8] \
        [--output-dir browse] [--seed 0] [--scale 2] [--cfg-options KEY=VALUE ...]

Writes ``OUTPUT_DIR/<config name>_<phase>.png``: a title row, then one row per sample as the
pipeline produced it (uint8, before the data preprocessor), with a note under it.

- Pretraining configs (TextMAE, MMS, LMIM): the (clean) view, the same view with the tokens of the
  pipeline's mask (``data_samples[i].mask``, what the model masks) greyed out, and for LMIM the
  guidance view; the note counts the masked tokens.
- Recognition configs: the image the recognizer reads; the note is its label.

Samples are read in the calling process, in dataset order, with the random pipeline seeded by
``--seed``.
"""
import argparse
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import Runner

from lmim_mm.engine.hooks.visualization import first_samples, tensor_to_rgb, token_grid
from lmim_mm.utils import register_all_modules
from lmim_mm.utils.run_config import merge_cfg_options
from lmim_mm.visualization import compose, grey_out, save_rgb, text_strip, upscale
from lmim_mm.visualization.images import BLACK

PHASES = ('train', 'val', 'test')


class Browsed(NamedTuple):
    """What the pipeline produced for some samples.

    Attributes:
        columns: Per column title, one RGB uint8 panel (H, W, 3) per sample.
        notes: One line of text per sample (label, or masked token count).
    """
    columns: Dict[str, List[np.ndarray]]
    notes: List[str]


def pretrain_samples(preprocessor: nn.Module, batch: dict) -> Browsed:
    """Views and masks of a pretraining batch (collated by the config's ``default_collate``)."""
    raw_views = [batch['inputs']] if isinstance(batch['inputs'], torch.Tensor) else batch['inputs']
    inputs = [tensor_to_rgb(img, preprocessor, normalised=False) for img in raw_views[0]]
    masks = [token_grid(sample.mask, img.shape[:2]) for sample, img in zip(batch['data_samples'], inputs)]
    columns = {'input': inputs,
               'mask': [grey_out(img, upscale(m, patch)) for img, (m, patch) in zip(inputs, masks)]}
    if len(raw_views) > 1:
        columns['guidance view'] = [tensor_to_rgb(img, preprocessor, normalised=False) for img in raw_views[1]]
    notes = [f'masked {int(m.sum())}/{m.size} tokens' for m, _ in masks]
    return Browsed(columns, notes)


def recognition_samples(preprocessor: nn.Module, batch: dict) -> Browsed:
    """Images and labels of a recognition batch (collated by ``pseudo_collate``).

    Raises:
        ValueError: a sample carries no ``gt_text`` (not a recognition pipeline).
    """
    notes = []
    for index, sample in enumerate(batch['data_samples']):
        if 'gt_text' not in sample:
            raise ValueError(f'sample {index} ({sample.metainfo.get("img_path")}) has no gt_text: '
                             'not a recognition pipeline')
        notes.append(f'label: {sample.gt_text.item!r}')
    inputs = [tensor_to_rgb(img, preprocessor, normalised=False) for img in batch['inputs']]
    return Browsed({'input': inputs}, notes)


def browse(cfg: Config, phase: str = 'train', num: int = 8, seed: int = 0) -> Browsed:
    """The first ``num`` samples of the ``{phase}_dataloader`` of ``cfg`` as the model gets them.

    Raises:
        KeyError: the config has no ``{phase}_dataloader``.
    """
    key = f'{phase}_dataloader'
    if key not in cfg:
        raise KeyError(f'{cfg.filename}: no {key}')
    loader_cfg = dict(cfg[key], batch_size=num, num_workers=0, persistent_workers=False)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model).eval()  # not initialised: only its data preprocessor is used
        batch = first_samples(Runner.build_dataloader(loader_cfg, seed=seed), num, seed)
    if 'mask' in batch['data_samples'][0]:
        return pretrain_samples(model.data_preprocessor, batch)
    return recognition_samples(model.data_preprocessor, batch)


def draw(browsed: Browsed, scale: int = 2) -> np.ndarray:
    """Compose a title row and one row per sample (panels enlarged by ``scale``, note below the first)."""
    rows = []
    for index, panels in enumerate(zip(*browsed.columns.values())):
        panels = [upscale(panel, scale) for panel in panels]
        note = text_strip([(browsed.notes[index], BLACK)], panels[0].shape[1])
        rows.append([np.concatenate([panels[0], note]), *panels[1:]])
    titles = [text_strip([(title, BLACK)], panel.shape[1]) for title, panel in zip(browsed.columns, rows[0])]
    return compose([titles] + rows)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--phase', choices=PHASES, default='train', help='which dataloader to read')
    parser.add_argument('--num', type=int, default=8, help='samples to show')
    parser.add_argument('--output-dir', default='browse', help='folder of the picture')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random pipeline and of the masks')
    parser.add_argument('--scale', type=int, default=2, help='integer enlargement of the panels')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Path:
    args = parse_args(argv)
    if args.num < 1:
        raise ValueError(f'--num must be >= 1, got {args.num}')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_cfg_options(cfg, args.cfg_options)
    picture = draw(browse(cfg, args.phase, args.num, args.seed), args.scale)
    path = save_rgb(picture, Path(args.output_dir) / f'{Path(args.config).stem}_{args.phase}.png')
    print(path)
    return path


if __name__ == '__main__':
    main()
