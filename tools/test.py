"""Evaluate a checkpoint (recognizer accuracy, or pretraining reconstruction loss)."""
import argparse

import matplotlib
from mmengine.config import Config

from lmim_mm.utils import register_all_modules
from lmim_mm.utils.run_config import add_common_args, build_runner, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--save-preds', action='store_true', help='dump predictions to work_dir/*.pkl')
    parser.add_argument('--show-dir', help='save every test image with its prediction and ground truth (mmocr '
                        'TextRecogLocalVisualizer) to SHOW_DIR/vis_data/vis_image/')
    add_common_args(parser)
    return parser.parse_args()


def show_predictions(cfg: Config, show_dir: str) -> None:
    """Turn on mmocr's ``VisualizationHook`` (prediction and ground truth) with a local backend in
    ``show_dir``, as mmocr's ``tools/test.py --show-dir``; LMDB images are read through the
    ``lmim_lmdb`` file backend. Words are drawn as plain text: matplotlib would parse a word with two
    ``$`` as a formula (and fail on most).

    Raises:
        ValueError: the config has no ``default_hooks.visualization`` (not a recognition config).
    """
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError(f'--show-dir: {cfg.filename} has no default_hooks.visualization (mmocr VisualizationHook); '
                         'it draws recognition predictions only')
    hook.update(enable=True, draw_gt=True, draw_pred=True, backend_args=dict(backend='lmim_lmdb'))
    cfg.visualizer.update(save_dir=show_dir, vis_backends=[dict(type='LocalVisBackend')])
    matplotlib.rcParams['text.parse_math'] = False


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        show_predictions(cfg, args.show_dir)
    if args.save_preds:
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) else cfg.test_evaluator
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=f'{cfg.work_dir}/predictions.pkl'))
    build_runner(cfg).test()


if __name__ == '__main__':
    main()
