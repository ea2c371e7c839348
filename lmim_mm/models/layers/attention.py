"""Attention for :mod:`.text_decoder`: PyTorch's fused ``scaled_dot_product_attention`` (dropout on the weights)."""
from torch.nn.functional import scaled_dot_product_attention as attention

__all__ = ['attention']
