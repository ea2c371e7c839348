"""lmim_mm.apis.inference: the decoding steps are read as mmocr's attention postprocessor reads the word; files and
uploads are read in batches, in order, each bad one named."""
import numpy as np
import pytest

from lmim_mm.apis import Vocabulary, WordReader, decoding_steps, read_image_file
from lmim_mm.datasets.image_io import ImageDecodeError

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


class WidthReader(WordReader):
    """Reads an image's width as its word and records the size of each batch it recognizes."""

    vocabulary = VOCABULARY

    def __init__(self) -> None:
        self.batches = []

    def _predict(self, images, batch_size):
        self.batches.append(len(images))
        return [dict(text=str(image.shape[1]), scores=1.0, probs=np.eye(5)[[0, 3]]) for image in images]


def test_read_inputs_keeps_the_order_and_names_each_input_it_cannot_read(real_data_dir, tmp_path):
    good = [real_data_dir / 'iiit5k_test' / 'IMG' / f'{i}.png' for i in (1, 2, 3)]
    (tmp_path / 'empty.png').write_bytes(b'')
    inputs = [str(good[0]), str(tmp_path / 'empty.png'), ('upload.png', good[1].read_bytes()), ('junk.png', b'junk'),
              good[2], str(tmp_path / 'missing.png')]
    reader = WidthReader()
    results = reader.read_inputs(inputs, batch_size=2, top_k=1)
    widths = [str(read_image_file(path).shape[1]) for path in good]
    assert [result.get('text') for result in results] == [widths[0], None, widths[1], None, widths[2], None]
    assert results[1]['error'] == f'{tmp_path / "empty.png"}: empty image (0 bytes)'
    assert results[3]['error'].startswith('junk.png: not a decodable image')
    assert 'missing.png' in results[5]['error']
    assert reader.batches == [1, 1, 1]  # each batch of two inputs: only its decoded image is recognized
    assert [step['char'] for step in results[0]['steps']] == ['a', '<EOS>']
    with pytest.raises(ImageDecodeError, match='empty.png'):
        reader.read_inputs(inputs, strict=True)
