"""lmim_mm.apis.probe: the column CTC head as a linear probe of frozen encoder tokens."""
import random

import pytest
import torch

from lmim_mm.apis.probe import PROBE_CHARSET, LinearCTCProbe, normalize_word, probe_encoder, train_ctc_probe
from lmim_mm.models.textrecog import ColumnCTCDecoder

GRID = (2, 8)  # 2 rows x 8 columns of tokens


def readable_tokens(words, channels: int = 40, noise: float = 0.1, seed: int = 0):
    """Tokens whose top row holds character i of a word one-hot at column 2i (a code the probe can read)."""
    tokens = noise * torch.randn(len(words), GRID[0] * GRID[1], channels, generator=torch.Generator().manual_seed(seed))
    for n, word in enumerate(words):
        for i, char in enumerate(word):
            tokens[n, 2 * i, PROBE_CHARSET.index(char)] += 1.0
    return tokens


def random_words(num: int, seed: int):
    rng = random.Random(seed)
    return [''.join(rng.choice('abcdefgh0123') for _ in range(rng.randint(1, 4))) for _ in range(num)]


def test_the_probe_is_the_column_ctc_head_on_standardised_column_tokens():
    assert normalize_word('Hello, World-42!') == 'helloworld42'
    tokens = torch.randn(3, 16, 5)
    probe = LinearCTCProbe(torch.randn(2, 1, 5), torch.rand(2, 1, 5) + 0.5, GRID)
    assert isinstance(probe.head, ColumnCTCDecoder) and probe.head.dictionary.num_classes == len(PROBE_CHARSET) + 1
    # by hand: standardise per row and channel, concatenate each column's rows top to bottom, one linear layer
    grid = (tokens.view(3, 2, 8, 5) - probe.mean) / probe.std
    columns = grid.permute(0, 2, 1, 3).reshape(3, 8, 10)
    expected = probe.head.classifier(columns).view(3, 16, len(PROBE_CHARSET) + 1)
    torch.testing.assert_close(probe(tokens), expected)
    with pytest.raises(ValueError, match='2x8 grid'):
        probe(tokens[:, :12])
    blank = probe.head.dictionary.padding_idx
    a, b = PROBE_CHARSET.index('a'), PROBE_CHARSET.index('b')
    logits = torch.nn.functional.one_hot(torch.tensor([[a, a, blank, a, b, b, blank]]), blank + 1).float() * 20
    probe.forward = lambda tokens: logits
    assert probe.read(tokens[:1]) == ['aab']  # repeats merged, blanks dropped


def test_probe_reads_a_linear_code_and_not_a_blind_encoder():
    train_words, test_words = random_words(400, seed=0), random_words(100, seed=1)
    readable = probe_encoder(readable_tokens(train_words, seed=0), train_words, readable_tokens(test_words, seed=1),
                             test_words, GRID, steps=300, batch_size=64)
    noise = torch.Generator().manual_seed(2)
    blind = probe_encoder(0.1 * torch.randn(400, 16, 40, generator=noise), train_words,
                          0.1 * torch.randn(100, 16, 40, generator=noise), test_words, GRID, steps=300, batch_size=64)
    assert readable['test_acc'] > 90 and readable['test_one_minus_ned'] > 95
    assert blind['test_acc'] < 25 and blind['test_loss'] > 2 * readable['test_loss']
    assert set(readable) == {f'{split}_{name}' for split in ('train', 'test')
                             for name in ('acc', 'one_minus_ned', 'loss')}


def test_probe_is_repeatable_for_a_seed():
    words = random_words(64, seed=2)
    tokens = readable_tokens(words)
    runs = [probe_encoder(tokens, words, tokens, words, GRID, steps=5, seed=seed) for seed in (0, 0, 1)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    with pytest.raises(ValueError, match='64 token rows but 63 words'):
        train_ctc_probe(tokens, words[:-1], GRID)
