"""Count a model's FLOPs and parameters with mmengine's counter (``mmengine.analysis``).

Usage::

    python tools/analysis_tools/get_flops.py CONFIG [--shape 32 128] [--seed 0] [--cfg-options KEY=VALUE ...]

Runs the model of CONFIG (randomly initialised from ``--seed``, eval mode) once on one blank image of ``--shape`` in
``mode='tensor'``, as mmpretrain's and mmocr's ``get_flops.py`` do:

- pretraining algorithms (TextMAE, MMS, LMIM): the backbone on the full image (``extract_feat``),
  i.e. the encoder a recognizer inherits; the decoders that only pretraining uses are not counted;
- recognizers: backbone, neck and decoding. Greedy decoding runs until every word has ended, so
  the count covers the steps that ran (``decode_steps``, at most the decoder's ``max_seq_len``; with
  random weights it depends on ``--seed``).

Prints mmengine's per-module table and one JSON line ``{"input_shape", "flops", "params",
"decode_steps"}`` (FLOPs as mmengine counts them: one multiply-add = one FLOP). mmengine has no
rule for ``aten::scaled_dot_product_attention``, through which every attention here runs; this tool
adds one (the two matrix products, ``Lq x Lk x (E + Ev)`` per head), so attention is counted.
Element-wise operations (additions, softmax, GELU, normalisation) are not counted, as in mmengine.
"""
import argparse
import json
import math
from typing import Any, List, Optional

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, DefaultScope

from lmim_mm.utils import register_all_modules
from lmim_mm.utils.run_config import merge_cfg_options


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs=2, default=(32, 128), metavar=('H', 'W'), help='input size')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random initialisation')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries, key=value')
    return parser.parse_args(argv)


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention`` from its traced inputs q (..., Lq, E), k (..., Lk, E)
    and v (..., Lk, Ev): ``q @ k^T`` and ``weights @ v``, one multiply-add = one FLOP."""
    q, k, v = (get_shape(value) for value in inputs[:3])
    return math.prod(q[:-1]) * k[-2] * (q[-1] + v[-1])


def count(cfg: Config, shape: tuple, seed: int = 0) -> dict:
    """FLOPs and parameters of ``cfg.model`` (initialised from ``seed``) on one blank (1, 3, H, W) image.

    Returns:
        ``input_shape``, ``flops``, ``params``, ``decode_steps`` (recognizers, else None) and
        ``table`` (mmengine's per-module table).
    """
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model).eval()
    inputs = torch.zeros(1, 3, *shape)
    with torch.no_grad():
        flops = FlopAnalyzer(model, (inputs, )).set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
        total = flops.total()
        out = model(inputs, mode='tensor')
    decode_steps = out.shape[1] if isinstance(out, torch.Tensor) else None  # (N, T, C) probabilities
    return dict(input_shape=[1, 3, *shape], flops=total, params=parameter_count(model)[''], decode_steps=decode_steps,
                table=complexity_stats_table(flops=flops, show_param_shapes=True))


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_cfg_options(cfg, args.cfg_options)
    result = count(cfg, tuple(args.shape), args.seed)
    print(result.pop('table'))
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
