"""Convert a folder dataset into a text-recognition LMDB, image bytes unchanged.

Layout ``SRC_DIR/IMG/<i>.<ext>`` + ``SRC_DIR/label/<i>.txt`` (samples ordered by the numeric id), or
with ``--unlabeled`` a plain image folder (``SRC_DIR/IMG`` if present, else ``SRC_DIR``).

Example:
    python tools/dataset_converters/folder_to_lmdb.py ../shared/data/real_benchmarks/svt_test \
        data/svt_test_lmdb --verify
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tools.*

from lmim_mm.datasets.folder_dataset import list_folder_samples  # noqa: E402
from tools.dataset_converters.lmdb_convert import files_to_lmdb  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src_dir', help='folder with IMG/ and label/ (or plain images with --unlabeled)')
    parser.add_argument('out_lmdb', help='output LMDB directory (must not hold an LMDB yet)')
    parser.add_argument('--unlabeled', action='store_true', help='write images only (no label keys)')
    parser.add_argument('--verify', action='store_true', help='read back and compare bytes and labels')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    items = list_folder_samples(args.src_dir, labeled=not args.unlabeled)
    count = files_to_lmdb(items, args.out_lmdb, verify=args.verify)
    print(f'{count} samples written to {args.out_lmdb}{" and verified" if args.verify else ""}')


if __name__ == '__main__':
    main()
