"""lmim_mm.apis.inference: the decoding steps are read as mmocr's attention postprocessor reads the word."""
import numpy as np
import pytest

from lmim_mm.apis import Vocabulary, decoding_steps

#: 'a', 'b', 'c', then EOS (3) and PADDING (4), as mmocr's Dictionary lays them out.
VOCABULARY = Vocabulary(classes=('a', 'b', 'c', '<EOS>', '<PAD>'), end_idx=3, ignore_indexes=(4, ))


def test_steps_skip_padding_stop_at_the_end_and_rank_alternatives():
    probs = np.array([[0.1, 0.7, 0.2, 0.0, 0.0],   # b
                      [0.0, 0.0, 0.1, 0.0, 0.9],   # padding: skipped, as the postprocessor does
                      [0.6, 0.0, 0.0, 0.3, 0.1],   # a
                      [0.0, 0.1, 0.0, 0.8, 0.1],   # end
                      [0.0, 0.0, 1.0, 0.0, 0.0]])  # after the end: not read
    steps = decoding_steps(probs, VOCABULARY, top_k=2)
    assert [(s['char'], s['end']) for s in steps] == [('b', False), ('a', False), ('<EOS>', True)]
    assert [s['prob'] for s in steps] == pytest.approx([0.7, 0.6, 0.8])
    assert [[t['char'] for t in s['top']] for s in steps] == [['b', 'c'], ['a', '<EOS>'], ['<EOS>', 'b']]


def test_a_word_without_its_end_within_the_steps_has_no_end_step():
    steps = decoding_steps(np.eye(5, dtype=np.float32)[[2, 0]], VOCABULARY)
    assert [s['char'] for s in steps] == ['c', 'a'] and not any(s['end'] for s in steps)
    assert len(steps[0]['top']) == 3 and steps[0]['top'][0] == dict(char='c', prob=1.0)
