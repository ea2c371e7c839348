"""Write a stand-in for the FudanVI Chinese alphabet (7934 characters), one character a line.

The LMIM Chinese recognizer uses the 7934-character alphabet of the FudanVI Chinese text
recognition benchmark (``benchmarking-chinese-text-recognition``), which is not available offline.
This script writes a file of the same size so that configs, class counts (7934 + EOS, PADDING,
UNKNOWN = 7937) and parameter counts (43,827,457) are right: the 94 printable ASCII characters
(digits, lower- and upper-case letters, punctuation, in ``dicts/english_digits_letters_symbols.txt``
order) followed by the first 7840 CJK Unified Ideographs from U+4E00. Its characters are NOT the
FudanVI alphabet: for real Chinese training or evaluation pass the FudanVI alphabet file as the
recognizer's ``dict_file`` instead.

Example::

    python tools/data/make_chinese_dict.py dicts/chinese_fudanvi.txt
"""
import argparse
import os
import string
from typing import List

#: Size of the FudanVI alphabet.
NUM_CHARS = 7934
#: digits, a-z, A-Z, then ASCII punctuation in code order (the English dictionary's order).
ASCII_CHARS = string.digits + string.ascii_lowercase + string.ascii_uppercase + string.punctuation
CJK_START = 0x4E00


def stand_in_alphabet(num_chars: int = NUM_CHARS) -> List[str]:
    """ASCII characters then CJK Unified Ideographs from U+4E00, ``num_chars`` in all."""
    num_cjk = num_chars - len(ASCII_CHARS)
    if num_cjk < 0:
        raise ValueError(f'num_chars must be at least {len(ASCII_CHARS)}, got {num_chars}')
    return list(ASCII_CHARS) + [chr(CJK_START + i) for i in range(num_cjk)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', help='output dictionary file')
    parser.add_argument('--num-chars', type=int, default=NUM_CHARS, help='alphabet size')
    args = parser.parse_args()
    tmp = f'{args.out}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write('\n'.join(stand_in_alphabet(args.num_chars)) + '\n')
    os.replace(tmp, args.out)
    print(f'{args.out}: {args.num_chars} characters')


if __name__ == '__main__':
    main()
