"""Frozen-encoder probe: a linear CTC head that reads a word from an encoder's patch tokens.

The tokens of one column of the token grid are concatenated (a column covers the full height of a
word image), standardised with statistics of the probe's training tokens (MAE's linear probing puts
an affine-free BatchNorm there) and mapped by a single linear layer to ``steps_per_column`` CTC steps
over a case-insensitive alphabet (digits and letters: what WAICS counts). Only that layer trains, on
cached tokens, so probing an encoder costs one forward pass over the images and seconds of training:
a cheap signal of how readable an encoder's features are, before any fine-tuning.
"""
import re
import string
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from lmim_mm.evaluation.scoring import LATIN_METRICS, TextScorer

#: the probe's alphabet; class 0 is the CTC blank, character ``i`` is class ``i + 1``
PROBE_CHARSET = string.digits + string.ascii_lowercase


def normalize_word(text: str) -> str:
    """A label as the probe's CTC target: lower case, digits and letters only (what WAICS counts)."""
    return re.sub(r'[^0-9a-z]', '', text.lower())


def column_features(tokens: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
    """Patch tokens in row-major order -> one feature per column of the grid.

    Args:
        tokens: (N, H' * W', C) patch tokens (no [cls]).
        grid: Token grid (H', W').

    Returns:
        (N, W', H' * C), the tokens of each column concatenated from top to bottom.
    """
    n, length, channels = tokens.shape
    if length != grid[0] * grid[1]:
        raise ValueError(f'{length} tokens do not fill a {grid[0]}x{grid[1]} grid')
    return tokens.view(n, grid[0], grid[1], channels).permute(0, 2, 1, 3).reshape(n, grid[1], grid[0] * channels)


class LinearCTCProbe(nn.Module):
    """Standardisation + one linear layer from column features to CTC logits.

    Args:
        mean: Per-feature mean of the training features, (F,).
        std: Per-feature standard deviation, (F,).
        steps_per_column: CTC time steps each column emits (2 lets a column hold a doubled letter).
        num_classes: Characters + 1 (the blank).
    """

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, steps_per_column: int = 2,
                 num_classes: int = len(PROBE_CHARSET) + 1) -> None:
        super().__init__()
        self.register_buffer('mean', mean)
        self.register_buffer('std', std)
        self.steps_per_column = steps_per_column
        self.num_classes = num_classes
        self.fc = nn.Linear(mean.numel(), steps_per_column * num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, W', F) column features -> (N, W' * steps_per_column, num_classes) logits."""
        n, columns, _ = features.shape
        logits = self.fc((features - self.mean) / self.std)
        return logits.view(n, columns * self.steps_per_column, self.num_classes)


def ctc_targets(words: Sequence[str]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Concatenated class ids (blank = 0) and lengths of the normalised ``words``."""
    ids = [[PROBE_CHARSET.index(c) + 1 for c in normalize_word(w)] for w in words]
    return torch.tensor([i for word in ids for i in word], dtype=torch.long), torch.tensor([len(w) for w in ids])


def greedy_ctc_decode(logits: torch.Tensor) -> List[str]:
    """Best path: argmax per step, repeats merged, blanks dropped. (N, T, K) -> N words."""
    words = []
    for path in logits.argmax(-1).tolist():
        kept = [c for t, c in enumerate(path) if c and (t == 0 or c != path[t - 1])]
        words.append(''.join(PROBE_CHARSET[c - 1] for c in kept))
    return words


def ctc_loss(probe: LinearCTCProbe, features: torch.Tensor, words: Sequence[str],
             reduction: str = 'mean') -> torch.Tensor:
    """CTC loss of ``words`` under the probe (per word, divided by its length, as PyTorch's 'mean')."""
    log_probs = probe(features).log_softmax(-1).transpose(0, 1)  # (T, N, K)
    ids, lengths = ctc_targets(words)
    steps = torch.full((len(words), ), log_probs.shape[0], dtype=torch.long)
    return F.ctc_loss(log_probs, ids, steps, lengths, blank=0, reduction=reduction, zero_infinity=True)


@torch.no_grad()
def evaluate_probe(probe: LinearCTCProbe, features: torch.Tensor, words: Sequence[str]) -> Dict[str, float]:
    """WAICS and 1-NED in % (mmocr's metrics, as the recognizer's test) and the CTC loss."""
    scores = TextScorer(LATIN_METRICS).score(greedy_ctc_decode(probe(features)), words)
    return dict(acc=100 * scores['word_acc_ignore_case_symbol'], one_minus_ned=100 * scores['1-N.E.D'],
                loss=ctc_loss(probe, features, words).item())


def train_ctc_probe(features: torch.Tensor, words: Sequence[str], steps: int = 300, batch_size: int = 256,
                    lr: float = 0.1, weight_decay: float = 1e-4, seed: int = 0) -> LinearCTCProbe:
    """Fit a :class:`LinearCTCProbe` on cached column features with AdamW (cosine schedule).

    Args:
        features: Training column features (N, W', F) (:func:`column_features`).
        words: Their labels.
        steps: Optimisation steps.
        batch_size: Words per step (sampled with replacement).
        lr: Peak learning rate.
        weight_decay: AdamW weight decay.
        seed: Seed of the layer's init and the batches.

    Returns:
        The probe, in eval mode.
    """
    if len(features) != len(words):
        raise ValueError(f'{len(features)} feature rows but {len(words)} words')
    generator = torch.Generator().manual_seed(seed)
    flat = features.flatten(0, 1)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        probe = LinearCTCProbe(flat.mean(0), flat.std(0) + 1e-6)
    optimizer = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        batch = torch.randint(len(words), (batch_size, ), generator=generator)
        loss = ctc_loss(probe, features[batch], [words[i] for i in batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return probe.eval()


def probe_encoder(train_tokens: torch.Tensor, train_words: Sequence[str], test_tokens: torch.Tensor,
                  test_words: Sequence[str], grid: Tuple[int, int], **train_kwargs) -> Dict[str, float]:
    """Train a probe on one encoder's tokens and measure it.

    Args:
        train_tokens: Patch tokens of the probe's training words, (N, L, C).
        train_words: Their labels.
        test_tokens: Patch tokens of held-out words, (M, L, C).
        test_words: Their labels.
        grid: Token grid (H', W').
        **train_kwargs: Passed to :func:`train_ctc_probe` (steps, lr, seed, ...).

    Returns:
        :func:`evaluate_probe`'s ``acc``, ``one_minus_ned`` and ``loss`` on the training words
        (prefixed ``train_``) and on the held-out words (``test_``).
    """
    train_features, test_features = column_features(train_tokens, grid), column_features(test_tokens, grid)
    probe = train_ctc_probe(train_features, train_words, **train_kwargs)
    return {f'{split}_{name}': value
            for split, features, words in (('train', train_features, train_words), ('test', test_features, test_words))
            for name, value in evaluate_probe(probe, features, words).items()}
