"""Evaluate a checkpoint (recognizer accuracy, or pretraining reconstruction loss)."""
import argparse

from lmim_mm.utils import register_all_modules
from lmim_mm.utils.run_config import add_common_args, build_runner, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--save-preds', action='store_true', help='dump predictions to work_dir/*.pkl')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.save_preds:
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) else cfg.test_evaluator
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=f'{cfg.work_dir}/predictions.pkl'))
    build_runner(cfg).test()


if __name__ == '__main__':
    main()
