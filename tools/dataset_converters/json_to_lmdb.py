"""Convert an MMOCR 1.x recognition annotation file and its images into an LMDB, bytes unchanged.

Entries with ``"instances": [{"text": ...}]`` give a labeled LMDB; entries with ``"instances": []``
an unlabeled one (a file must not mix both).

Example:
    python tools/dataset_converters/json_to_lmdb.py data/union14m/train_annos/mmocr1.0/train_challenging.json \
        data/union14m_challenging_lmdb --img-root data/union14m --verify
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tools.*

from lmim_mm.datasets.lmdb_utils import load_mmocr_json  # noqa: E402
from tools.dataset_converters.lmdb_convert import files_to_lmdb  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ann_json', help='MMOCR 1.x annotation file ({"metainfo", "data_list"})')
    parser.add_argument('out_lmdb', help='output LMDB directory (must not hold an LMDB yet)')
    parser.add_argument('--img-root', help='folder that img_path values are relative to (default: the '
                        "JSON file's folder)")
    parser.add_argument('--verify', action='store_true', help='read back and compare bytes and labels')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    items = load_mmocr_json(args.ann_json, args.img_root)
    count = files_to_lmdb(items, args.out_lmdb, verify=args.verify)
    print(f'{count} samples written to {args.out_lmdb}{" and verified" if args.verify else ""}')


if __name__ == '__main__':
    main()
