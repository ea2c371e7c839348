"""The linear CTC probe of frozen encoder tokens (tools.analysis_tools.linear_probe)."""
import random

import pytest
import torch

from tools.analysis_tools.linear_probe import (PROBE_CHARSET, column_features, evaluate_probe, greedy_ctc_decode,
                                      normalize_word, probe_encoder)

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


def test_words_columns_and_decoding():
    assert normalize_word('Hello, World-42!') == 'helloworld42'
    tokens = torch.arange(2 * 3 * 1.0).view(1, 6, 1)  # row-major 2x3 grid
    assert column_features(tokens, (2, 3)).view(3, 2).tolist() == [[0, 3], [1, 4], [2, 5]]
    with pytest.raises(ValueError, match='2x4 grid'):
        column_features(tokens, (2, 4))
    a, b = PROBE_CHARSET.index('a') + 1, PROBE_CHARSET.index('b') + 1
    logits = torch.nn.functional.one_hot(torch.tensor([[a, a, 0, a, b, b, 0]]), len(PROBE_CHARSET) + 1).float()
    assert greedy_ctc_decode(logits) == ['aab']


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
