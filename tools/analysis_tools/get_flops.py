"""Count a model's FLOPs and parameters with mmengine's counter (:func:`lmim_mm.apis.count_flops`).

Usage::

    python tools/analysis_tools/get_flops.py CONFIG [--shape 32 128] [--seed 0] [--cfg-options KEY=VALUE ...]

Runs the model of CONFIG (randomly initialised from ``--seed``, eval mode) once on one blank image of ``--shape``:
pretraining algorithms count their backbone (the encoder a recognizer inherits), recognizers backbone, neck and
the decoding steps that ran. Prints mmengine's per-module table and one JSON line ``{"input_shape", "flops",
"params", "decode_steps"}`` (one multiply-add = one FLOP; attention counted, element-wise operations not).
"""
import argparse
import json
from typing import List, Optional

from mmengine.config import Config, DictAction

from lmim_mm.apis.flops import count_flops
from lmim_mm.utils import register_all_modules
from lmim_mm.utils.run_config import merge_cfg_options


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs=2, default=(32, 128), metavar=('H', 'W'), help='input size')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random initialisation')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_cfg_options(cfg, args.cfg_options)
    result = count_flops(cfg, tuple(args.shape), args.seed)
    print(result.pop('table'))
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
