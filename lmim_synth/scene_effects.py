"""Scene-text effects of the word renderer (:mod:`lmim_synth.synthetic`), each an option of :class:`SceneOptions`.

Sign-like labels (case and punctuation as on real signs), curved words, keystone perspective, vivid
colours and textured backgrounds, drop shadows, low resolution and motion blur. Their randomness
(:class:`SceneRandom`) is apart from the sample's own generator: whether each event of :data:`EVENTS`
happens is one number of its own, and an event that happens draws from a generator of its own, all
seeded with the sample's numbers. So switching one option on or off changes nothing else that is
drawn, and with every option off the renderer makes the bytes it made without them. The probability
(and strength) of each event scales with the sample's ``difficulty`` (0: none happens).
"""
import string
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np


def _option(help_text: str) -> Any:
    """A scene effect of :class:`SceneOptions`: on by default, ``help_text`` for its command-line flag."""
    return field(default=True, metadata=dict(help=help_text))


@dataclass(frozen=True)
class SceneOptions:
    """Which scene-text effects the renderer adds (all on by default; :meth:`off` is the plain renderer).

    ``always`` makes every event of the effects that are on happen on every image at full strength (for
    pictures and tests).
    """
    fonts: bool = _option('the Latin fonts of the system (Debian packages, see LATIN_FONT_PATTERNS) besides '
                          "matplotlib's DejaVu/STIX")
    sign_text: bool = _option('labels as on signs: more ALL CAPS, prices, phone fragments, apostrophes, '
                              "trailing '.', '!', ','")
    curve: bool = _option('words along a circular arc, bent up or down')
    perspective: bool = _option('strong keystone perspective (a sign seen from the side, from below or above)')
    background: bool = _option('vivid colours and textured backgrounds (noise, stripes, bricks, a cut line of text)')
    shadow: bool = _option('drop shadows under the letters')
    low_res: bool = _option('down-sampling to 12-24 pixels high and back, motion blur')
    always: bool = field(default=False, metadata=dict(help='every event of the effects that are on happens'))

    @classmethod
    def off(cls) -> 'SceneOptions':
        """No scene effect: the renderer's plain images."""
        return cls(**{name: False for name in effect_names()})

    @classmethod
    def only(cls, name: str, always: bool = True) -> 'SceneOptions':
        """Effect ``name`` alone (happening on every image by default)."""
        if name not in effect_names():
            raise KeyError(f'unknown scene option {name!r}; expected one of {list(effect_names())}')
        return replace(cls.off(), **{name: True}, always=always)


def effect_names() -> Tuple[str, ...]:
    """The effect fields of :class:`SceneOptions` (all but ``always``)."""
    return tuple(f.name for f in fields(SceneOptions) if f.name != 'always')


#: The random events of the effects: name -> (option, probability at difficulty 1, scaled by difficulty).
EVENTS: Dict[str, Tuple[str, float]] = dict(
    sign_form=('sign_text', 0.45), curve=('curve', 0.3), keystone=('perspective', 0.3), vivid=('background', 0.4),
    texture=('background', 0.5), shadow=('shadow', 0.25), low_res=('low_res', 0.4), motion_blur=('low_res', 0.15))


class SceneRandom:
    """The randomness of the scene effects of one sample, apart from the sample's own generator.

    Args:
        options: The effects that are on.
        entropy: The sample's numbers ``(seed, split id, index)``.
        difficulty: Scale of the events' probabilities and strengths in [0, 1].
    """

    def __init__(self, options: SceneOptions, entropy: Sequence[int], difficulty: float):
        self.options, self.entropy = options, list(entropy)
        self.thresholds = {event: 1.0 if options.always else probability * difficulty
                           for event, (_, probability) in EVENTS.items()}
        self.draws = self._generator(0).random(len(EVENTS))  # one number per event, whatever is on
        #: Strength of the effects in [0.5, 1]: 1 at difficulty 1 or with ``always``.
        self.strength = 1.0 if options.always else 0.5 + 0.5 * difficulty

    def _generator(self, key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.entropy, spawn_key=(1, key)))

    def generator(self, name: str) -> np.random.Generator:
        """The generator of event (or option) ``name``, the same whichever options are on."""
        names = list(EVENTS) + list(effect_names())
        return self._generator(1 + names.index(name))

    def happens(self, event: str) -> Optional[np.random.Generator]:
        """The generator of ``event`` if its option is on and it happens, else ``None``."""
        option = EVENTS[event][0]
        happening = self.draws[list(EVENTS).index(event)] < self.thresholds[event]
        return self.generator(event) if getattr(self.options, option) and happening else None


def _number(rng: np.random.Generator, lo: int, hi: int) -> str:
    return str(int(rng.integers(lo, hi)))


def _like(word: str, other: str) -> str:
    """``other`` in the case of ``word`` (upper, title or lower)."""
    return other.upper() if word.isupper() else other.capitalize() if word[:1].isupper() else other


def _apostrophe_word(rng: np.random.Generator, words: Sequence[str], word: str) -> str:
    """A frequent word with an apostrophe (don't, I'm) in the case of ``word``, else ``word + "'s"``."""
    with_apostrophe = [w for w in words[:5000] if "'" in w]
    return _like(word, str(rng.choice(with_apostrophe))) if with_apostrophe else word + "'s"


def luma(colour: np.ndarray) -> float:
    """Grey level of a BGR colour (ITU-R BT.601 weights)."""
    return float(colour @ np.float32([0.114, 0.587, 0.299]))


#: Label forms of signs besides the plain word: ``(rng, word, words) -> label``.
SIGN_FORMS: Tuple[Callable[[np.random.Generator, str, Sequence[str]], str], ...] = (
    lambda rng, word, words: word + str(rng.choice(['.', '!', ',', ':', '?', '...', '!!'])),  # trailing punctuation
    lambda rng, word, words: word + ("'" if word[-1] in 'sS' else "'S" if word.isupper() else "'s"),  # JOE'S
    lambda rng, word, words: _apostrophe_word(rng, words, word),  # don't, I'm
    lambda rng, word, words: f'{word}-{_like(word, words[int(rng.integers(len(words)))])}',  # hyphenated
    lambda rng, word, words: str(rng.choice(['$', ''])) + f'{_number(rng, 1, 1000)}.{_number(rng, 0, 100):0>2}',
    lambda rng, word, words: f'{_number(rng, 1, 100)}%' + str(rng.choice(['', 'OFF', '!'])),  # 50%OFF
    lambda rng, word, words: str(rng.choice(['{}-{:04d}', '({})', '+{}', '0{}-{}'])).format(
        _number(rng, 100, 1000), int(rng.integers(10000))),  # phone fragments
    lambda rng, word, words: _number(rng, 1, 100) + str(rng.choice(['km', 'm', 'kg', 'h', 'st', 'nd', 'th', 'mph'])),
    lambda rng, word, words: str(rng.choice(['No.', '#', 'No', 'Rd.', 'St.', 'Ave.'])) + _number(rng, 1, 300),
    lambda rng, word, words: str(rng.choice(['24/7', '1-800', 'B&B', 'U.S.A.', 'P.O.', 'www.', '.com', 'Co.'])),
    lambda rng, word, words: (_number(rng, 1, 10 ** int(rng.integers(1, 6))), _number(rng, 1900, 2030),  # numbers
                              f'{_number(rng, 1, 13)}:{int(rng.integers(60)):02d}')[int(rng.integers(3))],
    lambda rng, word, words: str(rng.choice(list(string.ascii_uppercase))) + _number(rng, 1, 100),  # codes: A12
)


def sample_sign_text(rng: np.random.Generator, form_rng: Optional[np.random.Generator], words: Sequence[str],
                     charset: frozenset, max_len: int) -> str:
    """Draw a label as written on signs: a word in ALL CAPS (40%), Title Case (25%) or lower case, or, given
    ``form_rng`` (the event ``sign_form``), one of :data:`SIGN_FORMS` of it, cut to ``max_len`` characters.

    Raises:
        ValueError: A form made a character outside ``charset`` (a bug in :data:`SIGN_FORMS`).
    """
    word = words[int(rng.integers(len(words)))]
    word = (word.upper(), word.capitalize(), word)[int(rng.choice(3, p=(0.4, 0.25, 0.35)))]
    if form_rng is None:
        return word
    text = SIGN_FORMS[int(form_rng.integers(len(SIGN_FORMS)))](form_rng, word, words)[:max_len]
    if not set(text) <= charset:
        raise ValueError(f'sign label {text!r} holds characters outside the charset')
    return text


def curve(rng: np.random.Generator, masks: np.ndarray, strength: float) -> np.ndarray:
    """Bend ``(H, W, C)`` masks along a circular arc, up or down: the word's middle line of length ``W`` on a
    circle spanning 0.3-1.2 rad (times ``strength``) whose inner radius is at least the word's height.

    Returns:
        The bent masks ``(H', W', C)`` on a canvas that holds them.
    """
    h, w = masks.shape[:2]
    angle = min(rng.uniform(0.3, 1.2) * strength, w / (1.5 * h))
    downward = rng.random() < 0.5
    radius = w / angle  # of the middle line
    outer, inner = radius + h / 2, radius - h / 2
    out_w = int(np.ceil(2 * outer * np.sin(angle / 2)))
    out_h = int(np.ceil(outer - inner * np.cos(angle / 2)))
    dx = np.arange(out_w, dtype=np.float32)[None, :] - out_w / 2
    dy = outer - np.arange(out_h, dtype=np.float32)[:, None]
    map_x = (w / 2 + np.arctan2(dx, dy) * radius).astype(np.float32)
    map_y = (outer - np.hypot(dx, dy)).astype(np.float32)
    src = masks[::-1] if downward else masks  # a smile is the flipped arc of the flipped word
    bent = cv2.remap(np.ascontiguousarray(src), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    bent = bent.reshape(out_h, out_w, masks.shape[2])
    return bent[::-1] if downward else bent


def keystone(rng: np.random.Generator, height: int, width: int, strength: float) -> np.ndarray:
    """Corner shifts ``(4, 2)`` (top-left, top-right, bottom-right, bottom-left) of a keystone: one side of
    the word shrunk by 10-40% (times ``strength``) as on a sign seen from that side (70%) or from below
    or above (30%)."""
    shrink = rng.uniform(0.1, 0.4) * strength
    shift = np.zeros((4, 2), np.float32)
    if rng.random() < 0.7:  # left or right side shorter
        side = (1, 2) if rng.random() < 0.5 else (0, 3)
        shift[side[0], 1], shift[side[1], 1] = shrink * height / 2, -shrink * height / 2
    else:  # top or bottom side shorter
        side = (0, 1) if rng.random() < 0.5 else (3, 2)
        shift[side[0], 0], shift[side[1], 0] = shrink * width / 4, -shrink * width / 4
    return shift


def vivid_pair(rng: np.random.Generator, background: np.ndarray, text: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Turn the background (70%) or the text colour (BGR float32) into a saturated colour (HSV saturation
    0.5-1, random hue) of the same grey level (clipped), as on signs."""
    hsv = np.float32([[[rng.uniform(0, 360), rng.uniform(0.5, 1.0), 1.0]]])
    unit = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    on_background = rng.random() < 0.7
    colour = background if on_background else text
    colour = np.clip(unit * (luma(colour) / max(luma(unit), 1e-3)), 0, 255).astype(np.float32)
    return (colour, text) if on_background else (background, colour)


def _pattern(rng: np.random.Generator, height: int, width: int, glyphs: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32 texture in about [-1, 1]: smooth noise, stripes, bricks or a line of text above/below."""
    kind = int(rng.integers(4))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == 0:  # smooth noise
        cells = int(rng.integers(2, 7))
        coarse = rng.standard_normal((cells, max(2, cells * width // max(height, 1)))).astype(np.float32)
        return np.clip(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC) / 2, -1, 1)
    if kind == 1:  # stripes
        angle, period = rng.uniform(0, np.pi), rng.uniform(4, max(5, height / 2))
        return np.sign(np.sin(2 * np.pi * (xs * np.cos(angle) + ys * np.sin(angle)) / period)).astype(np.float32)
    if kind == 2:  # bricks: mortar lines and a tone per brick
        brick_h = rng.uniform(height / 3, height)
        brick_w, mortar = brick_h * rng.uniform(1.5, 3), max(1.0, brick_h * 0.1)
        row = np.floor(ys / brick_h)
        shifted = xs + (row % 2) * brick_w / 2
        tone = rng.uniform(-0.5, 0.5, 64).astype(np.float32)[(row * 7 + np.floor(shifted / brick_w)).astype(int) % 64]
        return np.where((ys % brick_h < mortar) | (shifted % brick_w < mortar), -1.0, tone).astype(np.float32)
    shift_y = int(round(rng.choice((-1, 1)) * rng.uniform(0.6, 0.9) * height))  # the line above or below, cut
    line = np.roll(glyphs[:, ::-1], (shift_y, int(rng.integers(width))), axis=(0, 1))  # mirrored: not the word
    unwrapped = (ys >= shift_y) & (ys < height + shift_y)
    return (rng.choice((-1, 1)) * line * unwrapped).astype(np.float32)


def texture(rng: np.random.Generator, background: np.ndarray, glyphs: np.ndarray, contrast: float,
            strength: float) -> np.ndarray:
    """Add a texture (:func:`_pattern`, tinted) to the ``(H, W, 3)`` background, of 10-40% of the text's
    ``contrast`` in grey levels (times ``strength``), so the word stays readable; ``glyphs`` ``(H, W)``
    gives the text line's shapes."""
    height, width = glyphs.shape
    amplitude = rng.uniform(0.1, 0.4) * contrast * strength
    tint = rng.uniform(0.6, 1.4, 3).astype(np.float32)
    return background + _pattern(rng, height, width, glyphs)[..., None] * (amplitude * tint)


def drop_shadow(rng: np.random.Generator, img: np.ndarray, cover: np.ndarray, strength: float) -> np.ndarray:
    """Darken (or, 30%, tint) ``img`` ``(H, W, 3)`` under ``cover`` ``(H, W)`` (the letters and outline)
    shifted by 3-10% of the height (times ``strength``), blurred a little."""
    height, width = cover.shape
    offset = rng.uniform(0.03, 0.1, 2) * height * strength * rng.choice((-1, 1), 2)
    shadow = cv2.warpAffine(cover, np.float32([[1, 0, offset[0]], [0, 1, offset[1]]]), (width, height))
    sigma = rng.uniform(0, 0.04) * height
    if sigma > 0.3:
        shadow = cv2.GaussianBlur(shadow, (0, 0), sigmaX=sigma)
    colour = rng.uniform(0, 255, 3).astype(np.float32) if rng.random() < 0.3 else np.zeros(3, np.float32)
    return img + (rng.uniform(0.5, 0.9) * shadow)[..., None] * (colour - img)


def low_resolution(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Down-sample ``(H, W, 3)`` to 12-24 pixels high (when higher) and back to its size."""
    height, width = img.shape[:2]
    scale = min(1.0, rng.uniform(12, 24) / height)
    small = cv2.resize(img, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=(cv2.INTER_LINEAR, cv2.INTER_CUBIC)[rng.integers(2)])


def motion_blur(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Blur ``(H, W, 3)`` along a random direction over 3-7 pixels."""
    length = int(rng.integers(3, 8))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2] = 1 / length
    rotation = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return cv2.filter2D(img, -1, kernel / max(float(kernel.sum()), 1e-6), borderType=cv2.BORDER_REPLICATE)
