"""Convert an MAERec MAE checkpoint (``{'model': ...}``) to a TextViT checkpoint for lmim_mm.

The MAE pixel decoder (``mask_token``, ``decoder_*``) is dropped; the encoder's ``pos_embed``
(with the authors' 16x16 table) is kept. The output is ``{'state_dict': ..., 'meta': ...}``.

Example::

    python tools/model_converters/maerec_mae_to_mm.py maerec_s_pretrain.pth vit_s_mae.pth --prefix backbone.
"""
import argparse

from lmim_mm.converters.authors import convert_maerec_mae, read_authors_checkpoint, save_mm_checkpoint


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='MAERec MAE checkpoint')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--prefix', default='', help="prefix of the output keys, e.g. 'backbone.' (default none)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    state_dict, dropped = convert_maerec_mae(read_authors_checkpoint(args.src), prefix=args.prefix,
                                             source=args.src)
    save_mm_checkpoint(state_dict, args.dst,
                       meta=dict(source=args.src, converter='maerec_mae_to_mm', prefix=args.prefix, dropped=dropped))
    print(f'{args.dst}: {len(state_dict)} tensors written, {len(dropped)} decoder keys dropped')


if __name__ == '__main__':
    main()
