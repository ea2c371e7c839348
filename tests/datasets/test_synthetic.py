"""Synthetic word rendering: determinism per (seed, split, index), labels, variety."""
import numpy as np

from lmim_mm.datasets.lmdb_utils import decode_image
from lmim_mm.datasets.synthetic import CHARSET, MAX_LABEL_LEN, english_words, font_paths, iter_samples, render_sample


def test_fonts_and_words_come_from_installed_packages():
    fonts = font_paths()
    assert len(fonts) >= 12 and any('Serif' in f for f in fonts) and any('Mono' in f for f in fonts)
    words = english_words()
    assert len(words) > 10000 and {'the', 'people', 'water'} <= set(words)


def test_same_seed_same_bytes_in_any_order():
    # (tests/tools/test_make_synthetic.py compares 2 worker processes with this process)
    single = list(iter_samples('train', 60, seed=7, workers=1))
    assert [render_sample(i, seed=7, split='train') for i in reversed(range(60))] == single[::-1]
    other_seed = list(iter_samples('train', 60, seed=8))
    assert sum(a != b for a, b in zip(single, other_seed)) == 60
    val = list(iter_samples('val', 60, seed=7))
    assert sum(a != b for a, b in zip(single, val)) == 60  # splits are separate streams


def test_samples_are_decodable_varied_word_images():
    samples = list(iter_samples('test', 300, seed=0))
    labels = [label for _, label in samples]
    assert all(0 < len(label) <= MAX_LABEL_LEN and set(label) <= CHARSET for label in labels)
    assert len(set(labels)) > 200
    assert any(label.isupper() for label in labels) and any(label.isdigit() for label in labels)
    assert any(not label.isalnum() for label in labels)
    imgs = [decode_image(img) for img, _ in samples]
    heights = [img.shape[0] for img in imgs]
    assert min(heights) >= 10 and max(heights) > 2 * min(heights)
    assert all(img.shape[1] > 0.3 * img.shape[0] for img in imgs)
    contrast = [float(np.std(img)) for img in imgs]
    assert min(contrast) < 20 < max(contrast)  # low-contrast images occur among clear ones
    assert all(label is None for _, label in iter_samples('unlabeled', 5, seed=0))
