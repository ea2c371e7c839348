"""Convert a ground-truth text file (``image_path<TAB>label`` or ``image_path label`` lines) into a
labeled text-recognition LMDB, image bytes and labels unchanged.

The label format of clovaai's ``create_lmdb_dataset.py``, PARSeq and Union14M. Image paths are
relative to ``--root`` (default: the text file's folder). Every bad line (no separator, empty path
or label, missing image, not UTF-8) is reported with its line number before anything is written.

Example:
    python tools/dataset_converters/txt_to_lmdb.py data/mydata/gt.txt data/mydata_lmdb --verify
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tools.*

from tools.dataset_converters.lmdb_convert import files_to_lmdb, load_gt_txt  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('gt_txt', help='text file of "path<TAB>label" or "path label" lines (UTF-8)')
    parser.add_argument('out_lmdb', help='output LMDB directory (must not hold an LMDB yet)')
    parser.add_argument('--root', help="folder the image paths are relative to (default: the text file's folder)")
    parser.add_argument('--verify', action='store_true', help='read back and compare bytes and labels')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    items = load_gt_txt(args.gt_txt, args.root)
    count = files_to_lmdb(items, args.out_lmdb, verify=args.verify)
    print(f'{count} samples written to {args.out_lmdb}{" and verified" if args.verify else ""}')


if __name__ == '__main__':
    main()
