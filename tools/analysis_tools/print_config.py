"""Print the full config (all ``_base_`` files merged, ``--cfg-options`` applied), as OpenMMLab's tool.

Usage::

    python tools/analysis_tools/print_config.py CONFIG [--cfg-options KEY=VALUE ...] [--out FILE.py]

``--out`` also writes it as a config file that ``tools/train.py`` / ``tools/test.py`` run unchanged.
"""
import argparse
from typing import List, Optional

from mmengine.config import Config, DictAction

from lmim_mm.utils.run_config import merge_cfg_options


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries, key=value')
    parser.add_argument('--out', help='also write the merged config to this .py file')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Config:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_cfg_options(cfg, args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.out:
        cfg.dump(args.out)
    return cfg


if __name__ == '__main__':
    main()
