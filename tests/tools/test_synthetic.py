"""Synthetic word rendering: determinism per (seed, split, index), labels, variety."""
from pathlib import Path

import numpy as np
import pytest

from lmim_mm.datasets.lmdb_utils import decode_image
from tools.data.synthetic import (CHARSET, MAX_LABEL_LEN, chinese_words, cjk_font_paths, english_words, font_paths,
                                        iter_samples, render_sample)


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


def test_difficulty_keeps_the_words_and_fonts_and_removes_the_nuisances():
    assert iter_samples('train', 40, seed=0) and list(iter_samples('train', 40, seed=0)) == list(
        iter_samples('train', 40, seed=0, difficulty=1.0))
    hard = list(iter_samples('train', 300, seed=0))
    clean = list(iter_samples('train', 300, seed=0, difficulty=0.0))
    words = set(english_words())
    assert all(label in words or label.lower() in words for _, label in clean)  # plain words only
    assert sum(label not in words and label.lower() not in words for _, label in hard) > 50
    # the same word (in the same case) where the hard sample is a plain word too
    same = [(h, c) for (_, h), (_, c) in zip(hard, clean) if h in words or h.lower() in words]
    assert len(same) > 150 and all(h == c for h, c in same)
    hard_imgs = [decode_image(img) for img, _ in hard]
    clean_imgs = [decode_image(img) for img, _ in clean]
    # no low-contrast pairs left: every clean image spans a wide range of grey levels
    assert min(float(np.ptp(img.mean(2))) for img in clean_imgs) > 100
    assert min(float(np.ptp(img.mean(2))) for img in hard_imgs) < 60
    # no noise: the flattest row of a clean image (the padding above the word) is uniform
    def flat_row_std(img):
        return min(float(row.std()) for row in img.mean(2))
    assert np.median([flat_row_std(img) for img in clean_imgs]) < np.median([flat_row_std(img) for img in hard_imgs])


def test_bad_difficulty_names_the_problem(tmp_path):
    from tools.data.synthetic import make_synthetic
    with pytest.raises(ValueError, match='difficulty'):
        render_sample(0, seed=0, split='train', difficulty=1.5)
    with pytest.raises(ValueError, match='difficulty'):
        next(iter_samples('train', 1, seed=0, difficulty=-0.1))
    with pytest.raises(KeyError, match='trian'):
        make_synthetic(tmp_path, dict(train=1), seed=0, difficulty=dict(trian=0.5))
    with pytest.raises(ValueError, match="split 'test'"):  # checked before any LMDB is written
        make_synthetic(tmp_path, dict(train=1, test=1), seed=0, difficulty=dict(test=2.0))
    assert not any(tmp_path.iterdir())


def test_chinese_words_in_a_cjk_font(shared_dir):
    fonts = cjk_font_paths()  # fonts-wqy-zenhei, installed by make setup
    assert fonts and all(Path(f).is_file() for f in fonts)
    alphabet = set((shared_dir / 'data' / 'fudanvi' / 'alphabet.txt').read_text(encoding='utf-8'))
    words = chinese_words()
    assert len(words) > 15000 and '中国' in words
    assert sum(set(w) <= alphabet for w in words) / len(words) > 0.999  # wordfreq's words, the benchmark's alphabet
    samples = [render_sample(i, seed=0, split='train', lang='zh') for i in range(8)]
    assert samples == [render_sample(i, seed=0, split='train', lang='zh') for i in range(8)]  # deterministic
    for img, label in samples:
        assert 1 <= len(label) <= 24 and all('\u4e00' <= c <= '\u9fff' for c in label)
        assert decode_image(img).shape[0] >= 16
    with pytest.raises(KeyError, match="unknown language 'fr'"):
        render_sample(0, seed=0, split='train', lang='fr')
