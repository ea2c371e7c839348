"""Character dictionaries: mmocr's one-character-a-line files (line ends stripped, empty lines skipped), made
from a one-line alphabet (the FudanVI benchmark's ``benchmark.txt``) or from labels."""
import collections
import os
from pathlib import Path
from typing import Iterable, List, Union

from mmocr.models.common.dictionary import Dictionary
from mmocr.registry import TASK_UTILS

from lmim_mm.utils.fileio import atomic_write_bytes

PathLike = Union[str, os.PathLike]


def check_chars(chars: List[str], where: str) -> None:
    """Raise ``ValueError`` (naming ``where``) unless ``chars`` are distinct single non-newline characters."""
    for position, char in enumerate(chars):
        if len(char) != 1 or char in '\r\n':
            raise ValueError(f'{where}: entry {position} is {char!r}, expected one character other than a line end')
    repeated = [char for char, count in collections.Counter(chars).items() if count > 1]
    if repeated:
        raise ValueError(f'{where}: characters repeated: {"".join(repeated)!r}')


def alphabet_chars(path: PathLike) -> List[str]:
    """The characters of an alphabet file that holds them all on one line, in order; one trailing line end is
    allowed, a line end elsewhere or a repeated character is a ``ValueError`` naming the file."""
    chars = list(Path(path).read_text(encoding='utf-8').removesuffix('\n'))  # read_text turns '\r\n' into '\n'
    check_chars(chars, f'{path} (expected all characters on one line)')
    return chars


def read_dict_chars(path: PathLike) -> List[str]:
    """The characters of a one-character-a-line dictionary, read as mmocr's ``Dictionary`` reads them; a line of
    more than one character or a repeated character is a ``ValueError`` naming the file (and line)."""
    chars = []
    with open(path, encoding='utf-8', newline='') as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip('\r\n')
            if len(line) > 1:
                raise ValueError(f'{path}:{number}: {line!r} holds {len(line)} characters, expected one')
            if line:
                chars.append(line)
    check_chars(chars, str(path))
    return chars


def write_dict(chars: Iterable[str], path: PathLike) -> int:
    """Write distinct single characters one per line in class order, atomically (folder created); returns the count."""
    chars = list(chars)
    check_chars(chars, str(path))
    atomic_write_bytes(''.join(f'{char}\n' for char in chars).encode('utf-8'), path)
    return len(chars)


def chars_by_frequency(labels: Iterable[str]) -> List[str]:
    """Every character of ``labels`` (line ends excluded), the most frequent first, ties by code point."""
    counts = collections.Counter(char for label in labels for char in label if char not in '\r\n')
    return sorted(counts, key=lambda char: (-counts[char], ord(char)))


@TASK_UTILS.register_module()
class GeneratedDictionary(Dictionary):
    """mmocr's ``Dictionary`` (its other arguments in ``**kwargs``) for a ``dict_file`` that is generated rather than
    committed; a missing one raises ``FileNotFoundError`` saying how to make it: ``how_to_make``, the command (or
    words) that make it."""

    def __init__(self, dict_file: str, how_to_make: str, **kwargs) -> None:
        if not Path(dict_file).is_file():
            raise FileNotFoundError(f'dictionary {dict_file} not found; make it with: {how_to_make}')
        super().__init__(dict_file, **kwargs)
