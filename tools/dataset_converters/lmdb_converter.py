"""Convert a text-recognition dataset into an LMDB, or an LMDB into image files + an MMOCR 1.x annotation file.

The source is any data source of :mod:`lmim_mm.datasets.sources` (``--format``, guessed by default): an
``IMG/<i>.<ext>`` + ``label/<i>.txt`` folder (or a plain image folder: unlabeled), an MMOCR 1.x JSON file,
a ``path<TAB>label`` (or ``path label``) text file as clovaai's ``create_lmdb_dataset.py``, PARSeq and
Union14M write them, or an LMDB. Image bytes and labels are copied unchanged. ``--to lmdb`` (the default
unless SRC is an LMDB) writes the LMDB OUT; ``--to json`` (the default for an LMDB) writes
``OUT/imgs/<index>.<ext>`` and ``OUT/labels.json`` whose ``img_path`` values are relative to OUT
(unlabeled samples get ``"instances": []``).

Examples:
    python tools/dataset_converters/lmdb_converter.py ../shared/data/real_benchmarks/svt_test data/svt_test_lmdb \
        --verify
    python tools/dataset_converters/lmdb_converter.py data/union14m/train_annos/mmocr1.0/train_challenging.json \
        data/union14m_challenging_lmdb --img-root data/union14m --verify
    python tools/dataset_converters/lmdb_converter.py data/mydata/gt.txt data/mydata_lmdb --verify
    python tools/dataset_converters/lmdb_converter.py ../shared/data/mmocr_rec_toy/imgs.lmdb work_dirs/toy
"""
import argparse
from typing import List, Optional

from lmim_mm.datasets.sources import SOURCES, open_source, source_to_lmdb, write_mmocr_json


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='the dataset: a folder, an MMOCR JSON file, a path<TAB>label text file or an LMDB')
    parser.add_argument('out', help='output LMDB (must not hold one yet), or folder with --to json')
    parser.add_argument('--format', default='auto', choices=('auto', *SOURCES.module_dict),
                        help='format of SRC (default: guessed)')
    parser.add_argument('--to', choices=('lmdb', 'json'), help='output (default: json for an LMDB, else lmdb)')
    parser.add_argument('--img-root', help='folder the image paths of a JSON or text file are relative to '
                        "(default: the file's folder)")
    parser.add_argument('--unlabeled', action='store_true', help='write images only (no label keys)')
    parser.add_argument('--verify', action='store_true', help='--to lmdb: read back and compare bytes and labels')
    parser.add_argument('--json-name', default='labels.json', help='--to json: annotation file name')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    source = open_source(args.src, args.format, args.img_root)
    if (args.to or ('json' if type(source) is SOURCES.get('lmdb') else 'lmdb')) == 'json':
        print(f'annotations written to {write_mmocr_json(source, args.out, args.json_name)}')
        return
    count = source_to_lmdb(source, args.out, labels=not args.unlabeled, verify=args.verify)
    print(f'{count} samples written to {args.out}{" and verified" if args.verify else ""}')


if __name__ == '__main__':
    main()
