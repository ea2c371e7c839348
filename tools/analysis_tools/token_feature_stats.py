"""Statistics of an encoder's patch tokens that tell a usable representation from a collapsed one.

A recognizer's decoder reads a word by attending to the tokens of the characters one after the
other, so the tokens of one image must differ with the character and the position under them. A
pretraining run whose target is easy to predict from the whole image (a weak teacher, for
instance) can end with every token of an image nearly alike; :func:`token_feature_stats` shows it.
"""
from typing import Dict

import torch
import torch.nn.functional as F


def token_feature_stats(tokens: torch.Tensor) -> Dict[str, float]:
    """Summarise the patch tokens of a batch of images.

    Args:
        tokens: Patch tokens (no [cls]) of N images, (N, L, C) with L >= 2.

    Returns:
        ``cos_within``: mean cosine similarity of two different tokens of the same image (1: every
        token of an image points the same way);
        ``within_image_var``: share of the feature variance left after subtracting each image's mean
        token - what tells characters and positions in a word apart;
        ``position_var``: share of the variance explained by the token position alone (the mean over
        images at each position);
        ``effective_rank``: exp of the entropy of the normalised squared singular values of the
        centred tokens (Roy & Vetterli, 2007), between 1 and C.
        Tokens without variance (all equal up to rounding) give 0 for the three last.

    Raises:
        ValueError: ``tokens`` is not (N, L >= 2, C).
    """
    if tokens.dim() != 3 or tokens.shape[1] < 2:
        raise ValueError(f'tokens must be (N, L >= 2, C), got {tuple(tokens.shape)}')
    tokens = tokens.detach().double()
    num_tokens = tokens.shape[1]
    unit = F.normalize(tokens, dim=-1)
    # |sum of unit vectors|^2 = all pairwise cosines + the diagonal (1 per non-zero token)
    pair_sums = unit.sum(dim=1).pow(2).sum(-1) - unit.pow(2).sum(dim=(1, 2))
    cos_within = (pair_sums / (num_tokens * (num_tokens - 1))).mean()
    centred = tokens - tokens.mean(dim=(0, 1))
    total_var = centred.pow(2).mean()
    stats = dict(cos_within=cos_within.item(), within_image_var=0.0, position_var=0.0, effective_rank=0.0)
    if total_var > 1e-12 * tokens.pow(2).mean():  # else rounding noise, not variance
        stats['within_image_var'] = ((tokens - tokens.mean(dim=1, keepdim=True)).pow(2).mean() / total_var).item()
        stats['position_var'] = (centred.mean(dim=0).pow(2).mean() / total_var).item()
        energy = torch.linalg.svdvals(centred.flatten(0, 1)).pow(2)
        share = energy[energy > 0] / energy.sum()
        stats['effective_rank'] = torch.exp(-(share * share.log()).sum()).item()
    return stats
