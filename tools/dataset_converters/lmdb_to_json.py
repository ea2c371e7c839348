"""Export a text-recognition LMDB as image files plus an MMOCR 1.x annotation file.

Writes ``OUT_DIR/imgs/<index>.<ext>`` (bytes unchanged) and ``OUT_DIR/labels.json`` whose
``img_path`` values are relative to ``OUT_DIR``; unlabeled LMDBs get ``"instances": []``.

Example:
    python tools/dataset_converters/lmdb_to_json.py ../shared/data/mmocr_rec_toy/imgs.lmdb work_dirs/toy
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tools.*

from tools.dataset_converters.lmdb_convert import export_lmdb  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('lmdb', help='LMDB directory')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--json-name', default='labels.json', help='annotation file name')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    print(f'annotations written to {export_lmdb(args.lmdb, args.out_dir, args.json_name)}')


if __name__ == '__main__':
    main()
