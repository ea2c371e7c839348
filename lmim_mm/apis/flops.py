"""FLOPs and parameters of a config's model with mmengine's counter (``mmengine.analysis``), as mmpretrain's and
mmocr's ``get_flops.py`` count them: one multiply-add = one FLOP, element-wise operations (additions, softmax,
GELU, normalisation) left out; :func:`sdpa_flop_jit` adds the rule mmengine lacks for
``aten::scaled_dot_product_attention``, through which every attention here runs."""
import math
from typing import Any, List, Tuple

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention`` from its traced inputs q (..., Lq, E), k (..., Lk, E)
    and v (..., Lk, Ev): ``q @ k^T`` and ``weights @ v``, one multiply-add = one FLOP."""
    q, k, v = (get_shape(value) for value in inputs[:3])
    return math.prod(q[:-1]) * k[-2] * (q[-1] + v[-1])


def count_flops(cfg: Config, shape: Tuple[int, int] = (32, 128), seed: int = 0) -> dict:
    """FLOPs and parameters of ``cfg.model`` (its modules registered, :func:`lmim_mm.utils.register_all_modules`;
    initialised from ``seed``, eval mode) run once on one blank image of ``shape`` (H, W) in ``mode='tensor'``: for
    pretraining algorithms (TextMAE, MMS, LMIM) the backbone on the full image (``extract_feat``), the encoder a
    recognizer inherits; for recognizers backbone, neck and greedy decoding until every word has ended
    (``decode_steps``, at most ``max_seq_len``, depends on the random weights).

    Returns:
        ``input_shape`` ([1, 3, H, W]), ``flops``, ``params``, ``decode_steps`` (recognizers, else None) and
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
