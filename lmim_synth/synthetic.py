"""Synthetic word images: real English or Chinese words rendered with real fonts, for tests and demos.

Words come from wordfreq's frequency lists (data inside the wheel). English (``lang='en'``): with
numbers, mixed case and punctuation mixed in, in the DejaVu and STIX families that matplotlib ships
and (scene option ``fonts``) the Latin fonts of the system's Debian font packages.
Chinese (``lang='zh'``): one to three of the most frequent Chinese words (CJK ideographs only), in the
CJK fonts of the system (Debian ``fonts-wqy-zenhei`` or ``fonts-noto-cjk``, installed by ``make
setup``). Each image draws
its own font, size, colours (low contrast and gradients included), stroke, rotation, shear,
perspective, padding/crop, blur, down-sampling, noise and JPEG quality from a generator seeded with
``(seed, split, index)``, so a sample's bytes depend only on these numbers (and the difficulty) - not
on the number of worker processes or the order in which samples are made.

``difficulty`` in [0, 1] scales every nuisance: the probability and strength of low contrast,
gradients, outlines, rotation, shear, perspective, crop, blur, down-sampling, noise and JPEG loss, and
the share of numbers/punctuation/codes among the labels. Sample ``i`` keeps its word (when it is a
plain word), font and size at every difficulty; 1 is the full-variety default, 0 a clean word
(no outline, gradient, warp, crop, blur or noise, contrast of at least 120 grey levels, JPEG
quality 90-95).

Scene-text effects (:mod:`lmim_synth.scene_effects`, each an option of :class:`SceneOptions`, all on by
default) add sign-like labels, more fonts, curved words, keystone perspective, vivid and textured
backgrounds, drop shadows, low resolution and motion blur; they scale with ``difficulty`` too, draw
from generators of their own, and with all of them off (``SceneOptions.off()``) the images are those
of the plain renderer, byte for byte.
"""
import functools
import multiprocessing
import string
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Tuple

import cv2
import matplotlib
import numpy as np
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont
from wordfreq import top_n_list

from lmim_mm.datasets.sources import PathLike, Sample, write_lmdb
from .scene_effects import (
    SceneOptions,
    SceneRandom,
    curve,
    drop_shadow,
    keystone,
    low_resolution,
    luma,
    motion_blur,
    sample_sign_text,
    texture,
    vivid_pair,
)

#: Stream id of each split in the per-sample seed; the labeled splits, then the unlabeled one.
SPLITS: Dict[str, int] = dict(train=0, val=1, test=2, unlabeled=3)
#: Characters a label may hold: the 94-character English charset (digits, letters, punctuation).
CHARSET = frozenset(string.digits + string.ascii_letters + string.punctuation)
MAX_LABEL_LEN = 24
#: Languages of the rendered words.
LANGUAGES = ('en', 'zh')
#: Where CJK fonts are looked for, and their file patterns (WenQuanYi, Noto CJK).
FONT_ROOT = Path('/usr/share/fonts')
CJK_FONT_PATTERNS = ('wqy-*.tt[cf]', 'Noto*CJK*.tt[cf]')
#: Latin fonts of Debian packages (``tools/setup_env.sh`` installs them), relative to :data:`FONT_ROOT`.
LATIN_FONT_PATTERNS = ('truetype/liberation2/*.ttf', 'truetype/liberation/*.ttf', 'truetype/freefont/*.ttf',
                       'truetype/crosextra/*.ttf', 'truetype/lato/*.ttf', 'truetype/open-sans/*.ttf',
                       'truetype/roboto/unhinted/**/*.ttf', 'truetype/inconsolata/*.otf', 'opentype/urw-base35/*.otf',
                       'opentype/linux-libertine/*.otf', 'opentype/comic-neue/*.otf', 'opentype/league-spartan/*.otf',
                       'opentype/cantarell/*.otf')
#: Weights too thin to read at the rendered sizes.
THIN_FONT_NAMES = ('Hairline', 'Thin', 'ExtraLight')


class FontFallbackWarning(UserWarning):
    """No Latin font of the system was found: the renderer uses matplotlib's fonts only."""


@functools.lru_cache(maxsize=1)
def font_paths() -> Tuple[str, ...]:
    """The TrueType fonts used: matplotlib's DejaVu Sans/Serif/Mono and STIX General, all styles.

    Raises:
        FileNotFoundError: matplotlib's font folder holds none of them.
    """
    font_dir = Path(matplotlib.get_data_path()) / 'fonts' / 'ttf'
    fonts = sorted(p for p in font_dir.glob('*.ttf')
                   if (p.name.startswith('DejaVu') and 'Display' not in p.name) or p.name.startswith('STIXGeneral'))
    if not fonts:
        raise FileNotFoundError(f'no DejaVu/STIX fonts in {font_dir}; is matplotlib installed?')
    return tuple(str(p) for p in fonts)


@functools.lru_cache(maxsize=1)
def cjk_font_paths() -> Tuple[str, ...]:
    """The CJK fonts under :data:`FONT_ROOT` (WenQuanYi, Noto CJK).

    Raises:
        FileNotFoundError: There is none; says which Debian package to install.
    """
    fonts = sorted({str(p) for pattern in CJK_FONT_PATTERNS for p in FONT_ROOT.rglob(pattern)})
    if not fonts:
        raise FileNotFoundError(f'no CJK font ({", ".join(CJK_FONT_PATTERNS)}) under {FONT_ROOT}: install the '
                                'Debian package fonts-wqy-zenhei (make setup does) or fonts-noto-cjk')
    return tuple(fonts)


def covers_charset(path: str) -> bool:
    """Whether the font file maps every character of :data:`CHARSET` to a glyph, the letters to glyphs
    named after them (or unnamed ones): symbol fonts map them to Greek letters or dingbats. False if the
    file is unreadable."""
    try:
        cmap = TTFont(path, lazy=True, fontNumber=0)['cmap'].getBestCmap() or {}
    except (OSError, TTLibError, KeyError):
        return False
    return all(ord(char) in cmap for char in CHARSET) and all(
        cmap[ord(char)] in (char, f'uni{ord(char):04X}') or cmap[ord(char)].startswith('glyph')
        for char in string.ascii_letters)


@functools.lru_cache(maxsize=1)
def scene_font_paths() -> Tuple[str, ...]:
    """The Latin fonts of the system (:data:`LATIN_FONT_PATTERNS` under :data:`FONT_ROOT`, not too thin,
    covering :data:`CHARSET`), then :func:`font_paths`; these alone, with a :class:`FontFallbackWarning`
    (once per process), when the system has none."""
    found = sorted({str(p) for pattern in LATIN_FONT_PATTERNS for p in FONT_ROOT.glob(pattern)
                    if not any(thin in p.name for thin in THIN_FONT_NAMES)})
    system = tuple(path for path in found if covers_charset(path))
    if not system:
        warnings.warn(f'no Latin font ({len(LATIN_FONT_PATTERNS)} patterns, e.g. {LATIN_FONT_PATTERNS[0]}) covering '
                      f"the charset under {FONT_ROOT}: rendering in matplotlib's DejaVu/STIX only (make setup "
                      'installs the Debian font packages)', FontFallbackWarning, stacklevel=2)
    return system + font_paths()


@functools.lru_cache(maxsize=1024)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=4)
def english_words(num_words: int = 30000) -> Tuple[str, ...]:
    """The most frequent English words (wordfreq) whose characters are all in :data:`CHARSET`."""
    words = (w for w in top_n_list('en', num_words) if 0 < len(w) <= MAX_LABEL_LEN)
    return tuple(w for w in words if set(w) <= CHARSET)


@functools.lru_cache(maxsize=4)
def chinese_words(num_words: int = 20000) -> Tuple[str, ...]:
    """The most frequent Chinese words (wordfreq) made of CJK unified ideographs (U+4E00-U+9FFF) only."""
    return tuple(w for w in top_n_list('zh', num_words) if all('\u4e00' <= c <= '\u9fff' for c in w))


def sample_chinese_text(rng: np.random.Generator, words: Sequence[str]) -> str:
    """Draw a Chinese label: one to three words (probabilities 0.5, 0.35, 0.15) run together."""
    count = int(rng.choice(3, p=(0.5, 0.35, 0.15))) + 1
    return ''.join(words[int(i)] for i in rng.integers(len(words), size=count))[:MAX_LABEL_LEN]


def _digits(rng: np.random.Generator, lo: int, hi: int) -> str:
    return str(int(rng.integers(10 ** lo, 10 ** hi)))


def sample_text(rng: np.random.Generator, words: Sequence[str], difficulty: float = 1.0) -> str:
    """Draw a label: mostly a word in lower, title or upper case, else (``0.3 * difficulty`` of the
    labels) a number, a word with punctuation or a code mixing letters and digits (at most
    :data:`MAX_LABEL_LEN` characters)."""
    word = words[int(rng.integers(len(words)))]
    word = (word, word.capitalize(), word.upper())[int(rng.choice(3, p=(0.5, 0.3, 0.2)))]
    share_other = 0.3 * difficulty
    kind = rng.random() - (1 - share_other)  # < 0: a plain word, else position among the others
    if kind < 0:
        text = word
    elif kind < share_other / 3:  # numbers: plain, prices, times, years, phone-like
        text = (lambda: _digits(rng, 0, 5), lambda: f'${_digits(rng, 0, 3)}.{_digits(rng, 1, 2)}',
                lambda: f'{int(rng.integers(1, 13))}:{int(rng.integers(60)):02d}', lambda: _digits(rng, 3, 4),
                lambda: f'{_digits(rng, 2, 3)}-{_digits(rng, 3, 4)}')[int(rng.integers(5))]()
    elif kind < share_other * 2 / 3:  # punctuation around the word
        left, right = [('', '.'), ('', ','), ('', '!'), ('', '?'), ('"', '"'), ('(', ')'), ('', ':'),
                       ('#', ''), ('', "'s"), ('@', ''), ('', '%'), ('&', '')][int(rng.integers(12))]
        text = left + word + right
    else:  # codes: word + digits, digits + capitals, capitals-digits
        letters = ''.join(rng.choice(list(string.ascii_uppercase), int(rng.integers(1, 4))))
        text = (lambda: word + _digits(rng, 0, 3), lambda: _digits(rng, 0, 3) + letters,
                lambda: f'{letters}-{_digits(rng, 1, 4)}')[int(rng.integers(3))]()
    return text[:MAX_LABEL_LEN]


def _colour_pair(rng: np.random.Generator, difficulty: float) -> Tuple[np.ndarray, np.ndarray]:
    """Background and text colours (BGR float32); ``15% * difficulty`` of pairs have low contrast
    (25-60 grey levels), the others 60-255 (at difficulty 1) to 120-255 (at 0). The text goes to the
    side of the background with room for the contrast (the roomier side, clipped, if neither has)."""
    bg_level = rng.uniform(0, 255)
    contrast = (rng.uniform(25, 60) if rng.random() < 0.15 * difficulty else rng.uniform(120 - 60 * difficulty, 255))
    sign = rng.choice((-1, 1))
    if contrast > (255 - bg_level if sign > 0 else bg_level):  # no room on that side: the roomier side
        sign = 1 if 255 - bg_level > bg_level else -1
    fg_level = float(np.clip(bg_level + sign * contrast, 0, 255))
    colours = []
    for level in (bg_level, fg_level):
        chroma = rng.normal(0, 35, 3)
        colours.append(np.clip(level + chroma - chroma.mean(), 0, 255).astype(np.float32))
    return colours[0], colours[1]


def _fill(rng: np.random.Generator, colour: np.ndarray, height: int, width: int,
          p_gradient: float) -> np.ndarray:
    """``(H, W, 3)`` float32 layer: the colour, or a linear gradient from it in a random direction."""
    if rng.random() >= p_gradient:
        return np.broadcast_to(colour, (height, width, 3))
    other = np.clip(colour + rng.normal(0, 50, 3), 0, 255).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * np.linspace(0, 1, width, dtype=np.float32)[None, :]
            + np.sin(angle) * np.linspace(0, 1, height, dtype=np.float32)[:, None])
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    return colour + ramp[..., None] * (other - colour)


def _text_masks(rng: np.random.Generator, text: str, font: ImageFont.FreeTypeFont, pad: Tuple[int, int, int, int],
                difficulty: float) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Coverage of the glyphs (and of an outline stroke, ``15% * difficulty`` of images) in [0, 1], ``(H, W)``."""
    stroke = int(rng.integers(1, 3)) if rng.random() < 0.15 * difficulty else 0
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    size = (right - left + pad[0] + pad[2], bottom - top + pad[1] + pad[3])
    origin = (pad[0] - left, pad[1] - top)
    masks = []
    for width in ((stroke, 0) if stroke else (0,)):
        canvas = Image.new('L', size, 0)
        ImageDraw.Draw(canvas).text(origin, text, font=font, fill=255, stroke_width=width, stroke_fill=255)
        masks.append(np.asarray(canvas, dtype=np.float32) / 255)
    return masks[-1], masks[0] if stroke else None


def _warp(rng: np.random.Generator, img: np.ndarray, difficulty: float,
          corner_shift: Optional[np.ndarray] = None) -> np.ndarray:
    """Rotation, shear and perspective jitter (all scaled by ``difficulty``), after the ``(4, 2)``
    ``corner_shift`` of a keystone if given, as one homography; the output fits the warped box."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    angle = np.deg2rad(rng.normal(0, 3) if rng.random() < 0.9 else rng.uniform(-20, 20)) * difficulty
    shear = rng.uniform(-0.3, 0.3) * difficulty if rng.random() < 0.3 else 0.0
    centred = src - (w / 2, h / 2)
    centred[:, 0] += shear * centred[:, 1]
    if corner_shift is not None:
        centred += corner_shift
    rot = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = centred @ rot.T + rng.uniform(-0.08, 0.08, (4, 2)).astype(np.float32) * (h * difficulty)
    dst -= dst.min(axis=0)
    out_w, out_h = np.ceil(dst.max(axis=0)).astype(int)
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(img, matrix, (int(out_w), int(out_h)), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def _degrade(rng: np.random.Generator, img: np.ndarray, difficulty: float) -> np.ndarray:
    """Random crop, blur, down-sampling and Gaussian noise (each with its own probability; crop and
    probabilities scaled by ``difficulty``)."""
    h, w = img.shape[:2]
    top, bottom = (rng.uniform(0, 0.08, 2) * (h * difficulty)).astype(int)
    left, right = (rng.uniform(0, 0.03, 2) * (w * difficulty)).astype(int)
    img = img[top:h - bottom, left:w - right]
    if rng.random() < 0.3 * difficulty:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=rng.uniform(0.3, 1.5))
    if rng.random() < 0.2 * difficulty:
        scale = rng.uniform(0.4, 0.8)
        small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.4 * difficulty:
        img = img + rng.normal(0, rng.uniform(2, 12), img.shape).astype(np.float32)
    return img


def render_word(rng: np.random.Generator, text: str, fonts: Sequence[str], difficulty: float = 1.0,
                scene: Optional[SceneRandom] = None) -> np.ndarray:
    """Render ``text`` as a scene-text-like word image.

    Args:
        rng: The sample's random generator (all randomness of the plain renderer comes from it).
        text: The word.
        fonts: TrueType font files to draw from.
        difficulty: Scale of the nuisances in [0, 1] (see the module docstring).
        scene: The randomness of the scene effects that are on (none without it).

    Returns:
        ``(H, W, 3)`` uint8 BGR image, roughly 20-90 pixels high.
    """
    happens = scene.happens if scene is not None else lambda event: None
    size = int(rng.integers(18, 56))
    font = _font(fonts[int(rng.integers(len(fonts)))], size)
    pad = tuple(int(v) for v in rng.integers(1, max(2, size // 2), 4))
    glyphs, outline = _text_masks(rng, text, font, pad, difficulty)
    if (event := happens('curve')) is not None:
        bent = curve(event, np.dstack([glyphs] if outline is None else [glyphs, outline]), scene.strength)
        glyphs, outline = bent[..., 0], None if outline is None else bent[..., 1]
    h, w = glyphs.shape
    bg_colour, fg_colour = _colour_pair(rng, difficulty)
    if (event := happens('vivid')) is not None:
        bg_colour, fg_colour = vivid_pair(event, bg_colour, fg_colour)
    img = _fill(rng, bg_colour, h, w, p_gradient=0.3 * difficulty)
    if (event := happens('texture')) is not None:
        img = texture(event, img, glyphs, abs(luma(fg_colour) - luma(bg_colour)), scene.strength)
    if (event := happens('shadow')) is not None:
        img = drop_shadow(event, img, glyphs if outline is None else np.maximum(glyphs, outline), scene.strength)
    if outline is not None:
        img = img + outline[..., None] * (_colour_pair(rng, difficulty)[0] - img)
    img = img + glyphs[..., None] * (_fill(rng, fg_colour, h, w, p_gradient=0.2 * difficulty) - img)
    event = happens('keystone')
    shift = None if event is None else keystone(event, h, w, scene.strength)
    img = _warp(rng, img.astype(np.float32), difficulty, shift)
    if (event := happens('low_res')) is not None:
        img = low_resolution(event, img)
    if (event := happens('motion_blur')) is not None:
        img = motion_blur(event, img)
    img = _degrade(rng, img, difficulty)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def check_difficulty(difficulty: float, split: str = '') -> None:
    """Raise ``ValueError`` (naming the split, if given) unless ``difficulty`` is in [0, 1]."""
    if not 0 <= difficulty <= 1:
        where = f' of split {split!r}' if split else ''
        raise ValueError(f'difficulty{where} must be in [0, 1], got {difficulty}')


def check_language(lang: str) -> None:
    """Raise ``KeyError`` unless ``lang`` is one of :data:`LANGUAGES`."""
    if lang not in LANGUAGES:
        raise KeyError(f'unknown language {lang!r}; expected one of {list(LANGUAGES)}')


def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of one sample: depends on the seed, the split and the index only."""
    return np.random.default_rng([seed, SPLITS[split], index])


def render_sample(index: int, seed: int, split: str, difficulty: float = 1.0, lang: str = 'en',
                  options: SceneOptions = SceneOptions()) -> Sample:
    """Encoded JPEG bytes and label of sample ``index`` of a split (label ``None`` for unlabeled).

    Args:
        index: Sample index (0-based).
        seed: Dataset seed.
        split: One of :data:`SPLITS`.
        difficulty: Scale of the nuisances in [0, 1] (see the module docstring); the JPEG quality is
            drawn from ``[40 + 50 * (1 - difficulty), 96)``.
        lang: One of :data:`LANGUAGES`.
        options: The scene effects (all on by default; the Chinese words take all but ``fonts`` and
            ``sign_text``).

    Returns:
        ``(jpeg_bytes, label or None)``.

    Raises:
        ValueError: ``difficulty`` is outside [0, 1].
        KeyError: ``lang`` is not one of :data:`LANGUAGES`.
    """
    check_difficulty(difficulty, split)
    check_language(lang)
    rng = sample_rng(seed, split, index)
    scene = SceneRandom(options, (seed, SPLITS[split], index), difficulty)
    if lang == 'zh':
        text, fonts = sample_chinese_text(rng, chinese_words()), cjk_font_paths()
    else:
        text = sample_text(rng, english_words(), difficulty)  # drawn in any case: the next draws stay
        if options.sign_text:
            text = sample_sign_text(scene.generator('sign_text'), scene.happens('sign_form'), english_words(),
                                    CHARSET, MAX_LABEL_LEN)
        fonts = scene_font_paths() if options.fonts else font_paths()
    img = render_word(rng, text, fonts, difficulty, scene)
    quality = int(rng.integers(40 + round(50 * (1 - difficulty)), 96))
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f'JPEG encoding failed for sample {index} of {split!r} (seed {seed})')
    return buf.tobytes(), None if split == 'unlabeled' else text


def _init_worker() -> None:
    """Rendering worker: one OpenCV thread; the caller has warned about missing fonts already."""
    cv2.setNumThreads(1)
    warnings.simplefilter('ignore', FontFallbackWarning)


def iter_samples(split: str, num: int, seed: int, workers: int = 1, chunksize: int = 64,
                 difficulty: float = 1.0, lang: str = 'en',
                 options: SceneOptions = SceneOptions()) -> Iterator[Sample]:
    """Yield samples ``0..num-1`` of a split in order, made by ``workers`` processes.

    Workers fork from a fresh server process that has imported this module once (``forkserver``):
    forking the caller could copy locks held by its threads (OpenCV's, torch's) and hang them. A
    worker that dies raises ``BrokenProcessPool``. At most ``64 * chunksize * workers`` samples are
    in flight, so memory stays bounded whatever ``num`` is.

    Args:
        split: One of :data:`SPLITS`.
        num: Number of samples.
        seed: Dataset seed.
        workers: Worker processes (1 renders in this process).
        chunksize: Samples per task sent to a worker.
        difficulty: Scale of the nuisances in [0, 1] (see the module docstring).
        lang: One of :data:`LANGUAGES`.
        options: The scene effects (see :func:`render_sample`).
    """
    if split not in SPLITS:
        raise KeyError(f'unknown split {split!r}; expected one of {list(SPLITS)}')
    if options.fonts and lang == 'en':
        scene_font_paths()  # warns here, once, if the system has no Latin font
    render = functools.partial(render_sample, seed=seed, split=split, difficulty=difficulty, lang=lang,
                               options=options)
    if workers <= 1:
        yield from map(render, range(num))
        return
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload([__name__])
    window = 64 * chunksize * workers
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        for start in range(0, num, window):
            yield from pool.map(render, range(start, min(start + window, num)), chunksize=chunksize)


def make_synthetic(out_dir: PathLike, sizes: Dict[str, int], seed: int, workers: int = 1, progress: bool = True,
                   difficulty: Optional[Dict[str, float]] = None, lang: str = 'en',
                   options: SceneOptions = SceneOptions()) -> Dict[str, int]:
    """Write one LMDB per split under ``out_dir`` (``train``/``val``/``test`` labeled, ``unlabeled``).

    Args:
        out_dir: Output folder; ``out_dir/<split>`` must not hold an LMDB yet.
        sizes: Samples per split; splits of size 0 are not written.
        seed: Dataset seed (the same seed gives byte-identical LMDB values).
        workers: Rendering processes.
        progress: Show tqdm progress bars.
        difficulty: Nuisance scale per split in [0, 1] (see the module docstring); 1 for the splits
            it does not name.
        lang: Language of the words, one of :data:`LANGUAGES`.
        options: The scene effects (see :func:`render_sample`).

    Returns:
        Samples written per split.
    """
    difficulty = difficulty or {}
    unknown = set(difficulty) - set(SPLITS)
    if unknown:
        raise KeyError(f'difficulty names unknown split(s) {sorted(unknown)}; expected some of {list(SPLITS)}')
    for split, value in difficulty.items():  # before any LMDB is written
        check_difficulty(value, split)
    check_language(lang)
    written = {}
    for split, num in sizes.items():
        if num > 0:
            samples = iter_samples(split, num, seed, workers, difficulty=difficulty.get(split, 1.0), lang=lang,
                                   options=options)
            written[split] = write_lmdb(samples, Path(out_dir) / split, total=num, progress=progress)
    return written
