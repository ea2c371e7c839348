"""Convert the authors' LMIM recognizer checkpoint to a checkpoint of lmim_mm's recognizer.

Encoder -> ``backbone.*``, ``linear_norm`` -> ``encoder.*`` (``LinearNorm``), decoder ->
``decoder.transformer.*``. The output ``{'state_dict': ..., 'meta': ...}`` loads into the
recognizer configs (``load_from``) for testing or further fine-tuning.

Example::

    python tools/model_converters/lmim_recognizer_to_mm.py checkpoint-9.pth lmim_vit_s_rec_mm.pth
"""
import argparse

from lmim_mm.converters.authors import convert_lmim_recognizer, read_authors_checkpoint, save_mm_checkpoint


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help="authors' LMIM recognizer checkpoint")
    parser.add_argument('dst', help='output checkpoint')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    state_dict, dropped = convert_lmim_recognizer(read_authors_checkpoint(args.src), source=args.src)
    save_mm_checkpoint(state_dict, args.dst, meta=dict(source=args.src, converter='lmim_recognizer_to_mm',
                                                       dropped=dropped))
    print(f'{args.dst}: {len(state_dict)} tensors written')


if __name__ == '__main__':
    main()
