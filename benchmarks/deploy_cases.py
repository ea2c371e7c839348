"""The cases of ``deploy_recognize`` (see :mod:`benchmarks.deploy_recognize`), loadable one at a time.

This module imports numpy only; each case imports what it runs (PyTorch: the ``pytorch_*`` cases,
:mod:`lmim_mm.deploy`: ours, ``rapidocr_onnxruntime``: ``ppocrv4``), so the peak memory of a case
(``python benchmarks/deploy_cases.py FOLDER CASE BATCH THREADS`` prints it) holds only what it needs.
``import lmim_mm`` imports the OpenMMLab stack where it is installed, so the benchmark runs our
onnxruntime cases where only their packages can be imported (:mod:`benchmarks.isolated_env`).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

#: The configs' full-size recognizer (ViT-S/4 + 6-layer decoder).
VIT_S_CONFIG = Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'models' / 'recognizer_vit_s.py'
#: Decodings: name -> beam width.
DECODINGS = {'greedy': 1, 'beam5': 5}
#: Our onnxruntime cases: prefix -> export subfolder.
EXPORTS = {'onnx': 'fp32', 'onnx_int8': 'int8'}
#: Every case, in timing order.
CASES = tuple(f'{prefix}_{decoding}' for prefix in ('pytorch', *EXPORTS) for decoding in DECODINGS) + ('ppocrv4', )
#: A loaded case: decodes the first n of its images, returns their words.
Run = Callable[[int], List[str]]


def build_recognizer(vit: Sequence[int], text_decoder: Sequence[int]):
    """The configs' recognizer (``recognizer_vit_s.py``) with ``vit`` = (dim, depth, heads) and
    ``text_decoder`` = (d_model, layers, heads, d_inner); random weights (seed 0), eval mode."""
    import copy

    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmocr.registry import MODELS

    from lmim_mm.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(VIT_S_CONFIG)).model
    dim, depth, heads = vit
    d_model, layers, dec_heads, d_inner = text_decoder
    cfg.backbone.update(arch=dict(embed_dims=dim, num_layers=depth, num_heads=heads))
    cfg.encoder.update(in_channels=dim, out_channels=d_model)
    cfg.decoder.update(n_layers=layers, d_model=d_model, n_head=dec_heads, d_k=d_model // dec_heads,
                       d_v=d_model // dec_heads, d_inner=d_inner)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmocr'):
        return MODELS.build(copy.deepcopy(cfg)).eval()


def pytorch_decode(model, images, beam_width: int) -> np.ndarray:
    """Token ids (N, T) of PyTorch eager greedy decoding (width 1) or beam search of normalised ``images``."""
    import torch

    from lmim_mm.apis.export import encoder_memory
    from lmim_mm.models.layers.text_decoding import beam_search, greedy_decode

    decoder = model.decoder
    steps, eos = decoder.max_seq_len, decoder.dictionary.end_idx
    with torch.no_grad():
        memory = encoder_memory(model, images)
        if beam_width <= 1:
            return greedy_decode(decoder.transformer, memory, steps, eos)[0].numpy()
        return beam_search(decoder.transformer, memory, steps, eos, beam_width)[0].numpy()


def ppocr_recognizer(batch: int, threads: int) -> Callable[[Sequence[np.ndarray]], List[Tuple[str, float]]]:
    """PP-OCRv4's recognizer from ``rapidocr_onnxruntime``: BGR images -> [(text, score)], ``batch`` per run."""
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer

    model = Path(rapidocr_onnxruntime.__file__).parent / 'models' / 'ch_PP-OCRv4_rec_infer.onnx'
    recognizer = TextRecognizer(dict(model_path=str(model), rec_img_shape=[3, 48, 320], rec_batch_num=batch,
                                     intra_op_num_threads=threads, inter_op_num_threads=1, use_cuda=False,
                                     use_dml=False))
    return lambda images: recognizer(list(images))[0]


class Workspace:
    """A folder holding what every case reads: ``fp32/`` and ``int8/`` exports, ``inputs.npy`` (the
    normalised batch), ``workspace.json`` (image files, model sizes, export settings).

    Args:
        folder: The folder (written by ``benchmarks.deploy_recognize.prepare_workspace``).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.info = json.loads((self.folder / 'workspace.json').read_text(encoding='utf-8'))
        self.files: List[str] = self.info['files']
        self.sizes: Dict[str, List[int]] = self.info['sizes']

    @property
    def settings(self):
        """The export's :class:`~lmim_mm.deploy.DeploySettings`."""
        from lmim_mm.deploy import DeploySettings

        return DeploySettings.from_json(json.dumps(self.info['settings']), source=str(self.folder))

    def words(self, ids: np.ndarray) -> List[str]:
        """Words of token ids (N, T)."""
        from lmim_mm.deploy import postprocess

        return [word for word, _ in postprocess(ids, np.ones(ids.shape, np.float32), self.settings)]

    def case(self, case: str, batch: int, threads: int) -> Run:
        """Load ``case`` (and nothing else) for up to ``batch`` images with ``threads`` intra-op threads."""
        if case == 'ppocrv4':
            import cv2

            bgr = [cv2.imread(f) for f in self.files[:batch]]
            recognize = ppocr_recognizer(batch, threads)
            return lambda n: [text for text, _ in recognize(bgr[:n])]
        prefix, decoding = case.rsplit('_', 1)
        width = DECODINGS[decoding]
        inputs = np.load(self.folder / 'inputs.npy')[:batch]
        if prefix == 'pytorch':
            import torch

            torch.set_num_threads(threads)
            model = build_recognizer(self.sizes['vit'], self.sizes['text_decoder'])
            images = torch.from_numpy(inputs)
            return lambda n: self.words(pytorch_decode(model, images[:n], width))
        from lmim_mm.deploy import ONNXRecognizer

        onnx_model = ONNXRecognizer(self.folder / EXPORTS[prefix], threads=threads)
        return lambda n: self.words(onnx_model.decode(inputs[:n], width)[0])


def peak_rss_mb(folder: Path, case: str, batch: int, threads: int) -> float:
    """Peak resident set (MiB) of this process after loading ``case`` and decoding 2, then ``batch`` images."""
    run = Workspace(folder).case(case, batch, threads)
    run(2)  # warm-up, as in the timed runs
    run(batch)
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec
    status = Path('/proc/self/status').read_text()
    return int(next(line for line in status.splitlines() if line.startswith('VmHWM:')).split()[1]) / 2**10


def main() -> int:
    parser = argparse.ArgumentParser(description='Peak memory of one deploy_recognize case (run in a fresh process)')
    parser.add_argument('folder', type=Path)
    parser.add_argument('case', choices=CASES)
    parser.add_argument('batch', type=int)
    parser.add_argument('threads', type=int)
    args = parser.parse_args()
    print(json.dumps(dict(peak_mem_mb=peak_rss_mb(args.folder, args.case, args.batch, args.threads))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
