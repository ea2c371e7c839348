"""Make the Chinese dictionary from the FudanVI benchmark's alphabet, one character a line.

The benchmark (``FudanVI/benchmarking-chinese-text-recognition``) keeps its 7934-character alphabet
on one line in ``models/CRNN/data/benchmark.txt`` (a copy: ``../shared/data/fudanvi/alphabet.txt``).
Its material is not redistributed with this project, so ``dicts/chinese_fudanvi.txt`` is made from
it, character for character and in its order, as mmocr's ``Dictionary`` reads dictionaries (7934 +
EOS, PADDING, UNKNOWN = the 7937 classes of the Chinese recognizer). ``make setup`` runs this when
``../shared/data/fudanvi/alphabet.txt`` exists.

Example::

    python tools/data/fudanvi_dict.py benchmarking-chinese-text-recognition/models/CRNN/data/benchmark.txt
"""
import argparse
from pathlib import Path
from typing import List, Optional

from lmim_mm.datasets.dictionary import alphabet_chars, write_dict

DEFAULT_OUT = Path(__file__).resolve().parents[2] / 'dicts' / 'chinese_fudanvi.txt'


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('alphabet', help="the benchmark's alphabet file (all characters on one line)")
    parser.add_argument('--out', default=str(DEFAULT_OUT), help='dictionary to write (default: %(default)s)')
    args = parser.parse_args(argv)
    count = write_dict(alphabet_chars(args.alphabet), args.out)
    print(f'{args.out}: {count} characters from {args.alphabet}')


if __name__ == '__main__':
    main()
