"""Plot training / validation curves of one or more runs from their mmengine logs.

Usage::

    python tools/analysis_tools/plot_curves.py work_dirs/pretrained work_dirs/scratch \
        --keys loss IIIT5K/recog/word_acc_ignore_case_symbol --labels pretrained scratch --out curves.png

Each work dir's newest ``<timestamp>/vis_data/scalars.json`` is read (a ``scalars.json`` path is
accepted too). Training keys are plotted against the iteration, validation keys against their
logged step (epoch or iteration); one panel per key, one line per run (:func:`lmim_mm.apis.plot_curves`).
"""
import argparse

from lmim_mm.apis.curves import plot_curves


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot scalars logged by mmengine runs')
    parser.add_argument('work_dirs', nargs='+', help='work dirs (or scalars.json files) of the runs')
    parser.add_argument('--keys', nargs='+', default=['loss'], help='scalar names, one panel each')
    parser.add_argument('--labels', nargs='+', help='legend names of the runs (default: work dir names)')
    parser.add_argument('--out', default='curves.png', help='output image (.png, .pdf, .svg)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    print(plot_curves(args.work_dirs, args.keys, args.out, args.labels))


if __name__ == '__main__':
    main()
