"""Train (pretrain or fine-tune) a model from an lmim_mm / mmocr / mmpretrain config."""
import argparse

from lmim_mm.utils import register_all_modules
from lmim_mm.utils.run_config import add_common_args, build_runner, enable_amp, launcher_rank, load_config
from lmim_mm.utils.work_dir_lock import hold_work_dir


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from the latest checkpoint in the work dir, or from the given one')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (bf16 where supported)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by total batch / auto_scale_lr.base_batch_size')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    # one run per work dir (refused while another live run holds it), with a log folder of its own
    with hold_work_dir(cfg.work_dir, rank=launcher_rank(cfg)):
        build_runner(cfg).train()


if __name__ == '__main__':
    main()
