"""lmim_mm.apis.flops: mmengine's counter with a rule for scaled_dot_product_attention (the tool:
tests/tools/test_analysis_tools.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer

from lmim_mm.apis.flops import sdpa_flop_jit


class Attend(nn.Module):
    """Self-attention of a token sequence through scaled_dot_product_attention, nothing else."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(x, x, x)


def test_attention_is_counted():
    x = torch.zeros(2, 3, 17, 8)  # batch 2, 3 heads, 17 tokens of 8 channels
    flops = FlopAnalyzer(Attend(), (x, ))
    assert flops.total() == 0  # mmengine alone has no rule for it
    flops = FlopAnalyzer(Attend(), (x, )).set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
    assert flops.total() == 2 * 3 * 17 * 17 * (8 + 8)  # q @ k^T and weights @ v
