"""Convert the authors' LMIM pretraining checkpoint to a checkpoint of lmim_mm's ``LMIM``.

Student -> ``backbone.*``, teacher -> ``teacher.*``, alignment decoder -> ``neck.*``. The output
``{'state_dict': ..., 'meta': ...}`` resumes pretraining (``load_from``) or, through the
``backbone.`` prefix, initialises a recognizer.

Example::

    python tools/model_converters/lmim_pretrain_to_mm.py checkpoint-19.pth lmim_vit_s_mm.pth
"""
import argparse

from lmim_mm.converters.authors import convert_lmim_pretrain, read_authors_checkpoint, save_mm_checkpoint


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help="authors' LMIM pretraining checkpoint")
    parser.add_argument('dst', help='output checkpoint')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    state_dict, dropped = convert_lmim_pretrain(read_authors_checkpoint(args.src), source=args.src)
    save_mm_checkpoint(state_dict, args.dst, meta=dict(source=args.src, converter='lmim_pretrain_to_mm',
                                                       dropped=dropped))
    print(f'{args.dst}: {len(state_dict)} tensors written')


if __name__ == '__main__':
    main()
