"""Deployment speed: the recognizer on onnxruntime (fp32, dynamic int8) against PyTorch eager; PP-OCRv4 for context.

``python -m benchmarks --only deploy_recognize`` runs :func:`measure_deploy_recognize`. One
recognizer (the configs' ViT-S/4 + 6-layer decoder, or the quick sizes; random weights: no
fine-tuned ViT-S is available offline, so no word ends and every decode takes all 25 steps) is
exported with :func:`~lmim_mm.apis.export.export_recognizer` and quantised with
:func:`~lmim_mm.apis.export.quantize_export`. On the same IIIT5K test images (one
normalised batch for every case of ours) and the same intra-op threads, the timing protocol is
:func:`benchmarks.harness.time_alternating` (warm-up on 2 images, then rounds that call every
case once, alternating the order; medians).

Cases per batch (:data:`benchmarks.deploy_cases.CASES`): ``pytorch_{greedy,beam5}``
(``greedy_decode`` / ``beam_search`` on the encoder's output, what ``ViTTransformerDecoder``
runs), ``onnx_{greedy,beam5}`` and ``onnx_int8_{greedy,beam5}``
(:meth:`lmim_mm.deploy.ONNXRecognizer.decode`), and ``ppocrv4``: PP-OCRv4's recognizer as
``rapidocr_onnxruntime`` 1.4.4 ships it (a 10 MB CTC model, 6623 classes) on the decoded BGR
images, its own resize and normalisation inside the timed call. Peak memory: the peak resident set
of a fresh process that loads one case alone (onnxruntime cases without PyTorch) and decodes the
batch after a warm-up: weights, runtime and libraries included, what a deployment of it costs;
our onnxruntime cases run where only numpy, Pillow, onnxruntime and lmim_mm can be imported
(:mod:`benchmarks.isolated_env`), as in a deployment without PyTorch; PP-OCRv4 imports only
``rapidocr_onnxruntime`` and its needs.

Lines: ``name='deploy_recognize'``; ``ours`` = images/s of the case; ``reference`` = PyTorch eager
with the same decoding (None for ``pytorch_*`` and ``ppocrv4``); ``peak_mem_mb`` and
``reference_peak_mem_mb``; ``same_words`` = share of images read as PyTorch reads them with the
same decoding; ``ppocrv4`` reports its WAICS on the images instead (ours have random weights).
"""
import json
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Dict, Iterator, Sequence

import numpy as np
import torch

from benchmarks.harness import BenchmarkSettings, Measurement, Sizes, image_files, machine_name, time_alternating
from .deploy_cases import CASES, EXPORTS, Workspace, build_recognizer

CASES_SCRIPT = Path(__file__).resolve().parent / 'deploy_cases.py'


def prepare_workspace(folder: Path, image_folder: Path, sizes: Sizes, count: int) -> Workspace:
    """Build the recognizer, export and quantise it, and store the first ``count`` images of ``image_folder``."""
    from lmim_mm.apis.export import deploy_settings, export_recognizer, quantize_export
    from lmim_mm.deploy import read_image, to_input

    model = build_recognizer(sizes.vit, sizes.text_decoder)
    settings = deploy_settings(model)
    files = image_files(image_folder, count)
    images = to_input([read_image(f) for f in files], settings)
    np.save(folder / 'inputs.npy', images)
    export_recognizer(model, folder / EXPORTS['onnx'], torch.from_numpy(images[:2]))
    quantize_export(folder / EXPORTS['onnx'], folder / EXPORTS['onnx_int8'])
    info = dict(files=[str(f) for f in files], sizes=dict(vit=sizes.vit, text_decoder=sizes.text_decoder),
                settings=json.loads(settings.to_json()))
    (folder / 'workspace.json').write_text(json.dumps(info), encoding='utf-8')
    return Workspace(folder)


def peak_memories(folder: Path, cases: Sequence[str], batch: int, threads: int) -> Dict[str, float]:
    """Peak memory (MiB) of each case, each in a fresh process (``benchmarks/deploy_cases.py``); our
    onnxruntime cases see only :data:`~benchmarks.isolated_env.DEPLOY_PACKAGES`."""
    from benchmarks.isolated_env import DEPLOY_PACKAGES, isolated_command, link_packages

    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        site = link_packages(Path(tmp) / 'site', DEPLOY_PACKAGES)
        for case in cases:
            args = (str(folder), case, str(batch), str(threads))
            command = isolated_command(site, CASES_SCRIPT, *args) if case.startswith('onnx') else \
                [sys.executable, str(CASES_SCRIPT), *args]
            proc = subprocess.run(command, capture_output=True, text=True, check=False)
            if proc.returncode:
                raise RuntimeError(f'peak memory of {case} (batch {batch}) failed:\n{proc.stderr[-2000:]}')
            peaks[case] = json.loads(proc.stdout.strip().splitlines()[-1])['peak_mem_mb']
    return peaks


def waics(preds: Sequence[str], labels: Sequence[str]) -> float:
    """Word accuracy ignoring case and symbols, as the recognizer's test computes it."""
    from lmim_mm.evaluation.scoring import LATIN_METRICS, TextScorer

    return TextScorer(LATIN_METRICS).score(preds, labels)['word_acc_ignore_case_symbol']


def measure_deploy_recognize(settings: BenchmarkSettings) -> Iterator[Measurement]:
    """Images/s and peak memory of every case at every ``recognize_batches`` size (see the module docstring),
    yielded batch size after batch size."""
    if settings.device != 'cpu' or settings.dtype != 'fp32':
        raise ValueError('deploy_recognize measures fp32 models on the CPU (onnxruntime CPUExecutionProvider)')
    threads = torch.get_num_threads()
    batches = settings.sizes.recognize_batches
    image_folder = settings.data_root / 'iiit5k_test' / 'IMG'
    with tempfile.TemporaryDirectory() as tmp:
        workspace = prepare_workspace(Path(tmp), image_folder, settings.sizes, max(batches))
        for batch in batches:
            runs = {case: workspace.case(case, batch, threads) for case in CASES}
            timings = time_alternating({c: partial(r, batch) for c, r in runs.items()}, settings.repeats, 'cpu',
                                       warmup={c: partial(r, 2) for c, r in runs.items()})
            del runs
            peaks = peak_memories(Path(tmp), CASES, batch, threads)
            labels = [(image_folder.parent / 'label' / f'{Path(f).stem}.txt').read_text(encoding='utf-8').strip()
                      for f in workspace.files[:batch]]
            for case in CASES:
                reference, extra = None, dict(machine=machine_name('cpu'), threads=threads, repeats=settings.repeats,
                                              runs_s=[float(f'{t:.4g}') for t in timings.seconds[case]])
                if case == 'ppocrv4':
                    extra['waics'] = waics(timings.outputs[case], labels)
                else:
                    torch_case = 'pytorch_' + case.rsplit('_', 1)[1]
                    pairs = zip(timings.outputs[case], timings.outputs[torch_case])
                    extra['same_words'] = float(np.mean([a == b for a, b in pairs]))
                    if torch_case != case:
                        reference = batch / timings.median(torch_case)
                        extra['reference_peak_mem_mb'] = peaks[torch_case]
                yield Measurement('deploy_recognize', case, batch / timings.median(case), reference, 'images/s',
                                  device='cpu', dtype='int8' if 'int8' in case else 'fp32', batch=batch,
                                  peak_mem_mb=peaks[case], extra=extra)


__all__ = ['measure_deploy_recognize', 'peak_memories', 'prepare_workspace', 'waics']
