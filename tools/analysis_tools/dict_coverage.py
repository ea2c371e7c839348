"""How well a dictionary covers the labels of datasets.

Per dataset: the labels holding characters outside the dictionary (they would be encoded as
UNKNOWN), their share, and those characters, the most frequent first. Sources: any data source (LMDBs,
``IMG/`` + ``label/`` folders, MMOCR 1.x JSON files, ``path<TAB>label`` text files), FudanVI prediction
files (their ground truths) or one-label-a-line text files (:func:`lmim_mm.apis.read_labels`). The dictionary
is a one-character-a-line file, or a config whose recognizer names one (``model.decoder.dictionary.dict_file``).
Training and testing run the same check (:class:`~lmim_mm.engine.hooks.DictCoverageHook`).

Example::

    python tools/analysis_tools/dict_coverage.py dicts/chinese_fudanvi.txt \
        ../shared/data/fudanvi/predictions/CRNN/CRNN_*.txt --format predictions
"""
import argparse
import json
from typing import List, Optional

from lmim_mm.apis.labels import LABEL_FORMATS, read_labels
from lmim_mm.datasets.coverage import label_coverage
from lmim_mm.datasets.dictionary import read_dict_chars


def dict_file(path: str) -> str:
    """``path`` itself, or the ``dict_file`` of the recognizer of the config ``path`` (a ``.py`` file)."""
    if not path.endswith('.py'):
        return path
    from mmengine.config import Config

    return Config.fromfile(path).model.decoder.dictionary.dict_file


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('dictionary', help='dictionary file (one character a line) or a recognizer config')
    parser.add_argument('sources', nargs='+', help='datasets whose labels to check')
    parser.add_argument('--format', default='auto', choices=('auto', ) + LABEL_FORMATS,
                        help='format of every source (default: guessed per source; one-label-a-line files need lines)')
    parser.add_argument('--top', type=int, default=20, help='out-of-dictionary characters listed per dataset')
    parser.add_argument('--json', action='store_true', help='one JSON line per dataset instead of text')
    args = parser.parse_args(argv)
    chars = set(read_dict_chars(dict_file(args.dictionary)))
    for source in args.sources:
        report = label_coverage(source, read_labels(source, args.format), chars)
        print(json.dumps(report.to_dict(args.top), ensure_ascii=False) if args.json else report.summary(args.top))


if __name__ == '__main__':
    main()
