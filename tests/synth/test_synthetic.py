"""lmim_synth, the synthetic word renderer: determinism per (seed, split, index), labels, variety, scene-text
effects."""
import dataclasses
import hashlib
import string
from pathlib import Path

import numpy as np
import pytest

from lmim_mm.datasets.image_io import read_image
from lmim_synth.scene_effects import SceneOptions, SceneRandom, effect_names, sample_sign_text
from lmim_synth.synthetic import (
    CHARSET,
    FONT_ROOT,
    MAX_LABEL_LEN,
    THIN_FONT_NAMES,
    FontFallbackWarning,
    chinese_words,
    cjk_font_paths,
    covers_charset,
    english_words,
    font_paths,
    iter_samples,
    render_sample,
    scene_font_paths,
)


def decode(img_bytes: bytes) -> np.ndarray:
    """A rendered image, decoded as the datasets decode it."""
    return read_image(img_bytes, 'rendered sample')

PLAIN_RENDERER_SHA256 = 'dc4c09ae962b2c74857dbdadb8c68d6ce0103f03a448df31fe0e119ab9c0d09a'


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
    imgs = [decode(img) for img, _ in samples]
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
    # the same word (in the same case) where the hard sample is a plain word too (letters only: the sign forms
    # make words with an apostrophe, and codes, of other words)
    same = [(h, c) for (_, h), (_, c) in zip(hard, clean) if (h in words or h.lower() in words) and h.isalpha()]
    assert len(same) > 150 and all(h == c for h, c in same)
    hard_imgs = [decode(img) for img, _ in hard]
    clean_imgs = [decode(img) for img, _ in clean]
    # no low-contrast pairs left: every clean image spans a wide range of grey levels
    assert min(float(np.ptp(img.mean(2))) for img in clean_imgs) > 100
    assert min(float(np.ptp(img.mean(2))) for img in hard_imgs) < 60
    # no noise: the flattest row of a clean image (the padding above the word) is uniform
    def flat_row_std(img):
        return min(float(row.std()) for row in img.mean(2))
    assert np.median([flat_row_std(img) for img in clean_imgs]) < np.median([flat_row_std(img) for img in hard_imgs])


def test_bad_difficulty_names_the_problem(tmp_path):
    from lmim_synth.synthetic import make_synthetic
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
        assert decode(img).shape[0] >= 16
    with pytest.raises(KeyError, match="unknown language 'fr'"):
        render_sample(0, seed=0, split='train', lang='fr')


# ---- scene-text effects (tools/data/scene_effects.py) ----

@pytest.fixture
def fresh_font_list():
    """scene_font_paths() computed again in the test and after it."""
    scene_font_paths.cache_clear()
    yield
    scene_font_paths.cache_clear()


def test_plain_options_reproduce_the_renderer_before_the_scene_effects():
    # sha256 of samples 0-19 (seed 5, train) and 0-9 (seed 5, test, difficulty 0.3) rendered by the renderer
    # before the scene options (commit a2933b0) in the project's environment
    digest = hashlib.sha256()
    for split, num, difficulty in (('train', 20, 1.0), ('test', 10, 0.3)):
        for img, label in iter_samples(split, num, seed=5, difficulty=difficulty, options=SceneOptions.off()):
            digest.update(img + label.encode())
    assert digest.hexdigest() == PLAIN_RENDERER_SHA256
    # the effects scale with difficulty: at 0 only the fonts and the labels can differ from the plain renderer
    no_fonts_or_labels = dataclasses.replace(SceneOptions(), fonts=False, sign_text=False)
    assert (list(iter_samples('train', 30, seed=1, difficulty=0.0, options=no_fonts_or_labels))
            == list(iter_samples('train', 30, seed=1, difficulty=0.0, options=SceneOptions.off())))


@pytest.mark.parametrize('name', effect_names())
def test_each_effect_is_deterministic_per_seed_and_changes_the_image(name):
    options = SceneOptions.only(name)
    samples = [render_sample(i, seed=3, split='train', options=options) for i in range(8)]
    assert samples == list(iter_samples('train', 8, seed=3, options=options))  # same bytes again
    assert sum(a != b for a, b in zip(samples, iter_samples('train', 8, seed=4, options=options))) == 8
    plain = list(iter_samples('train', 8, seed=3, options=SceneOptions.off()))
    changed = 0
    for (img, label), (plain_img, plain_label) in zip(samples, plain):
        assert 0 < len(label) <= MAX_LABEL_LEN and set(label) <= CHARSET
        img, plain_img = decode(img), decode(plain_img)
        if name == 'sign_text':
            changed += label != plain_label
        elif img.shape != plain_img.shape:
            changed += 1
        else:
            changed += float(np.abs(img.astype(float) - plain_img).mean()) > 3  # grey levels on average
    assert changed >= 6, f'{name} changed only {changed} of 8 images'
    # one effect switched on leaves the plain renderer's draws alone: the same words without it
    if name not in ('sign_text', 'fonts'):
        assert [label for _, label in samples] == [label for _, label in plain]


def test_default_effects_are_deterministic_across_workers_and_keep_the_labels_in_the_charset():
    samples = list(iter_samples('train', 40, seed=2))
    assert samples == list(iter_samples('train', 40, seed=2, workers=2, chunksize=8))
    assert samples != list(iter_samples('train', 40, seed=2, options=SceneOptions.off()))
    def sign_label(index, difficulty):
        scene = SceneRandom(SceneOptions(), (0, 0, index), difficulty)
        return sample_sign_text(scene.generator('sign_text'), scene.happens('sign_form'), english_words(), CHARSET,
                                MAX_LABEL_LEN)

    labels = [sign_label(i, 1.0) for i in range(3000)]
    assert all(0 < len(label) <= MAX_LABEL_LEN and set(label) <= CHARSET for label in labels)
    upper = sum(label.isupper() and label.isalpha() for label in labels) / len(labels)
    assert 0.18 < upper < 0.3  # ALL CAPS as on signs (0.4 of the words, 0.55 of the labels plain words)
    assert any(label.istitle() and label.isalpha() for label in labels)
    assert any(label.islower() and label.isalpha() for label in labels)
    for mark in ("'", '.', '!', ',', '$', '%', '-'):
        assert sum(mark in label for label in labels) > 10, mark
    assert sum(any(c.isdigit() for c in label) for label in labels) > 200  # prices, phone fragments, numbers
    clean = [sign_label(i, 0.0) for i in range(300)]
    assert all(label.lower() in set(english_words()) for label in clean)  # difficulty 0: plain words


def test_system_fonts_cover_the_charset(fresh_font_list):
    fonts = scene_font_paths()
    system = [f for f in fonts if f.startswith(str(FONT_ROOT))]
    assert len(system) >= 50 and fonts[len(system):] == font_paths()  # make setup's Debian packages, then matplotlib
    assert any('Liberation' in f for f in system) and any('Roboto' in f for f in system)
    assert not any(thin in Path(f).name for f in system for thin in THIN_FONT_NAMES)
    assert all(covers_charset(f) for f in fonts)


def test_font_list_skips_fonts_without_the_charset_and_falls_back(tmp_path, monkeypatch, fresh_font_list):
    from fontTools import subset
    full = Path(font_paths()[0])
    folder = tmp_path / 'truetype' / 'liberation2'
    folder.mkdir(parents=True)
    (folder / 'Full.ttf').write_bytes(full.read_bytes())
    (folder / 'Full-Thin.ttf').write_bytes(full.read_bytes())
    options = subset.Options()
    font = subset.load_font(str(full), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=string.ascii_letters)  # no digits or punctuation
    subsetter.subset(font)
    subset.save_font(font, str(folder / 'LettersOnly.ttf'), options)
    assert not covers_charset(str(folder / 'LettersOnly.ttf')) and not covers_charset(str(tmp_path / 'missing.ttf'))
    monkeypatch.setattr('lmim_synth.synthetic.FONT_ROOT', tmp_path)
    assert scene_font_paths() == (str(folder / 'Full.ttf'), ) + font_paths()
    scene_font_paths.cache_clear()
    (folder / 'Full.ttf').unlink()
    with pytest.warns(FontFallbackWarning, match="matplotlib's DejaVu/STIX only"):
        assert scene_font_paths() == font_paths()
    assert render_sample(0, seed=0, split='train', options=SceneOptions.only('fonts'))[1]  # renders with them
