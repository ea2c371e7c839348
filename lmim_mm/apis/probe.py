"""Frozen-encoder probe: the recognizer's column CTC head read off an encoder's cached patch tokens. Only one linear
layer trains: a cheap signal, before any fine-tuning, of how readable an encoder's features are."""
import os.path as osp
import re
import string
import tempfile
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.structures import LabelData
from mmocr.models.common.dictionary import Dictionary
from mmocr.structures import TextRecogDataSample

from lmim_mm.datasets.dictionary import write_dict
from lmim_mm.evaluation.scoring import LATIN_METRICS, TextScorer
from lmim_mm.models.textrecog.decoders import ColumnCTCDecoder

#: The probe's alphabet (the padding class after it is the CTC blank).
PROBE_CHARSET = string.digits + string.ascii_lowercase


def normalize_word(text: str) -> str:
    """A label as the probe's CTC target: lower case, digits and letters only (what WAICS counts)."""
    return re.sub(r'[^0-9a-z]', '', text.lower())


def text_samples(words: Sequence[str]) -> List[TextRecogDataSample]:
    """mmocr data samples whose ``gt_text`` are the normalised ``words``."""
    return [TextRecogDataSample(gt_text=LabelData(item=normalize_word(word))) for word in words]


class LinearCTCProbe(nn.Module):
    """:class:`ColumnCTCDecoder` on frozen patch tokens standardised with the statistics of the probe's training
    tokens (where MAE's linear probe puts an affine-free BatchNorm): each column's tokens (the full height of a word)
    concatenated and mapped to ``steps_per_column`` CTC steps over :data:`PROBE_CHARSET`, trained with mmocr's
    ``CTCModuleLoss`` and read with its ``CTCPostProcessor``.

    Args:
        mean, std: Per row and channel mean and standard deviation of the training tokens, (H', 1, C) each.
        grid: Token grid (H', W').
        steps_per_column: CTC time steps each column emits (2 lets a column hold a doubled letter).
    """

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, grid: Tuple[int, int], steps_per_column: int = 2) -> None:
        super().__init__()
        self.register_buffer('mean', mean)
        self.register_buffer('std', std)
        with tempfile.TemporaryDirectory() as tmp:  # mmocr's Dictionary reads a file
            write_dict(PROBE_CHARSET, osp.join(tmp, 'chars.txt'))
            dictionary = Dictionary(osp.join(tmp, 'chars.txt'), with_padding=True)
        self.head = ColumnCTCDecoder(
            grid[0] * mean.shape[-1], dictionary, grid, steps_per_column, column_pool='concat',
            module_loss=dict(type='CTCModuleLoss', zero_infinity=True))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(N, H' * W', C) patch tokens (row-major, no [cls]) -> (N, W' * steps_per_column, classes) logits."""
        height, width = self.head.grid_size
        if tokens.shape[1] != height * width:
            raise ValueError(f'{tokens.shape[1]} tokens do not fill a {height}x{width} grid')
        standardised = (tokens.unflatten(1, (height, width)) - self.mean) / self.std
        return self.head.forward_train(None, standardised.flatten(1, 2))

    def loss(self, tokens: torch.Tensor, words: Sequence[str]) -> torch.Tensor:
        """CTC loss of ``words`` (per word, divided by its length, as PyTorch's 'mean')."""
        module_loss = self.head.module_loss
        return module_loss(self(tokens), module_loss.get_targets(text_samples(words)))['loss_ctc']

    @torch.no_grad()
    def read(self, tokens: torch.Tensor) -> List[str]:
        """Best-path words of the tokens (repeats merged, blanks dropped)."""
        samples = self.head.postprocessor(self(tokens).softmax(-1), text_samples([''] * len(tokens)))
        return [sample.pred_text.item for sample in samples]


@torch.no_grad()
def evaluate_probe(probe: LinearCTCProbe, tokens: torch.Tensor, words: Sequence[str]) -> Dict[str, float]:
    """WAICS and 1-NED in % (mmocr's metrics, as the recognizer's test) and the CTC loss."""
    scores = TextScorer(LATIN_METRICS).score(probe.read(tokens), words)
    return dict(acc=100 * scores['word_acc_ignore_case_symbol'], one_minus_ned=100 * scores['1-N.E.D'],
                loss=probe.loss(tokens, words).item())


def train_ctc_probe(tokens: torch.Tensor, words: Sequence[str], grid: Tuple[int, int], steps: int = 300,
                    batch_size: int = 256, lr: float = 0.1, weight_decay: float = 1e-4,
                    seed: int = 0) -> LinearCTCProbe:
    """A :class:`LinearCTCProbe` (eval mode) fitted to the patch tokens (N, H' * W', C) of ``words`` on the token
    ``grid`` (H', W'): ``steps`` AdamW steps (peak ``lr``, cosine schedule) of ``batch_size`` words drawn with
    replacement; ``seed`` seeds the layer's init and the batches."""
    if len(tokens) != len(words):
        raise ValueError(f'{len(tokens)} token rows but {len(words)} words')
    generator = torch.Generator().manual_seed(seed)
    per_row = tokens.unflatten(1, grid).transpose(1, 2).flatten(0, 1)  # (N * W', H', C)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        probe = LinearCTCProbe(per_row.mean(0, keepdim=True).transpose(0, 1),
                               per_row.std(0, keepdim=True).transpose(0, 1) + 1e-6, grid)
    optimizer = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        batch = torch.randint(len(words), (batch_size, ), generator=generator)
        optimizer.zero_grad()
        probe.loss(tokens[batch], [words[i] for i in batch]).backward()
        optimizer.step()
        scheduler.step()
    return probe.eval()


def probe_encoder(train_tokens: torch.Tensor, train_words: Sequence[str], test_tokens: torch.Tensor,
                  test_words: Sequence[str], grid: Tuple[int, int], **train_kwargs) -> Dict[str, float]:
    """Train a probe on one encoder's tokens and measure it: :func:`evaluate_probe`'s ``acc``, ``one_minus_ned`` and
    ``loss`` on the training words (prefixed ``train_``) and on the held-out words (``test_``).

    Args:
        train_tokens, train_words: Patch tokens (N, L, C) of the probe's training words, and their labels.
        test_tokens, test_words: Patch tokens (M, L, C) of held-out words, and their labels.
        grid: Token grid (H', W').
        **train_kwargs: Passed to :func:`train_ctc_probe` (steps, lr, seed, ...).
    """
    probe = train_ctc_probe(train_tokens, train_words, grid, **train_kwargs)
    return {f'{split}_{name}': value
            for split, tokens, words in (('train', train_tokens, train_words), ('test', test_tokens, test_words))
            for name, value in evaluate_probe(probe, tokens, words).items()}
