"""Make a dictionary (one character a line) from the labels of datasets, the most frequent first.

Reads the labels of any data source (LMDBs, ``IMG/`` + ``label/`` folders, MMOCR 1.x JSON files, ``path<TAB>label``
text files), FudanVI prediction files or one-label-a-line text files (see :func:`lmim_mm.apis.read_labels`). With
``--base`` the characters of an existing dictionary come first, in its order, and only new ones are
appended (so a trained model's classes keep their ids). Check a dictionary against data with
``tools/analysis_tools/dict_coverage.py``.

Example::

    python tools/data/build_dict.py data/mytrain_lmdb data/myval_lmdb --out dicts/my_dict.txt
"""
import argparse
from typing import List, Optional

from lmim_mm.apis.labels import LABEL_FORMATS, read_labels
from lmim_mm.datasets.dictionary import chars_by_frequency, read_dict_chars, write_dict


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('sources', nargs='+', help='datasets whose labels to read')
    parser.add_argument('--out', required=True, help='dictionary to write')
    parser.add_argument('--format', default='auto', choices=('auto', ) + LABEL_FORMATS,
                        help='format of every source (default: guessed per source; one-label-a-line files need lines)')
    parser.add_argument('--base', help='dictionary whose characters come first, in its order')
    args = parser.parse_args(argv)
    labels = (label for source in args.sources for label in read_labels(source, args.format))
    base = read_dict_chars(args.base) if args.base else []
    known = set(base)
    chars = base + [char for char in chars_by_frequency(labels) if char not in known]
    count = write_dict(chars, args.out)
    print(f'{args.out}: {count} characters ({count - len(base)} from the labels of {len(args.sources)} source(s))')


if __name__ == '__main__':
    main()
