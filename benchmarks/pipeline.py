"""Training and inference speed through the real pipeline (``python -m benchmarks --pipeline``).

The models are the configs' own (``configs/lmim_pretrain.py``, the MAE config, the recognizer fine-tuning
config), built by the registries with their data preprocessors, and a training step is mmengine's
``model.train_step(data, optim_wrapper)`` with the config's optimizer in an ``AmpOptimWrapper`` (bf16, or fp16
with dynamic loss scaling as the authors ran; ``OptimWrapper`` for fp32). Batches come from the configs' own
transforms (two views + mask, or packed text samples) on random images, collated as their dataloaders do, and
are moved to the device by the data preprocessor in every step, as in training. ``--compile`` compiles the
encoders and pretraining decoders (:data:`COMPILED_PARTS`) with ``torch.compile``.

Each measurement is timed against the in-tree re-creation of the authors' computation of the same size on the
same device in the same process (``ratio`` = ours / reference images/s), alternating as
:func:`benchmarks.harness.time_alternating` does: ``ReferenceLMIM`` / ``ReferenceMAE`` / ``ReferenceRecognizer``
(explicit attention, ``torch.optim.AdamW`` defaults, fp16 autocast with a ``GradScaler`` on CUDA, bf16 autocast
on CPU, which has no fp16 autocast; greedy decoding re-running the decoder over the whole prefix each step).

MFU: the model's FLOPs from :func:`lmim_mm.apis.count_flops` (the encoder on one image for
pretraining algorithms; encoder and decoding for recognizers), times 2 (it counts a multiply-add as one FLOP),
times 3 for a training step (forward + backward), over the chip's dense bf16 peak (:data:`PEAK_BF16_FLOPS`);
``null`` on a chip not in that table. ``peak_mem_gib``: ``torch.cuda.max_memory_allocated`` over one call of ours
after a warm-up one (training steps: before the reference model exists; ``null`` on CPU). ``data_workers``:
images/s of the LMIM config's dataloader (LMDB read, two
views, mask, collate) with 1..N workers, next to the GPU's step rate.
"""
import copy
import os
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from unittest import mock

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import lmim_mm  # noqa: F401  (first, before mmocr / mmpretrain: lmim_mm.compat)
from benchmarks.harness import FULL_CUDA, QUICK, Sizes, build_lmim, build_mae, recognizer_configs, time_alternating

REPO = Path(__file__).resolve().parents[1]
#: The configs measured: name -> path.
CONFIGS = dict(lmim=REPO / 'configs' / 'lmim_pretrain.py',
               mae=REPO / 'configs' / 'mae' / 'mae_vit-s-p4_8xb128-amp-coslr-20e_union14m-u.py',
               recognizer=REPO / 'configs' / 'textrecog'
               / 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l.py')
#: Dense bf16 peak FLOP/s by a substring of ``torch.cuda.get_device_name()`` (NVIDIA's data sheets; SXM parts).
PEAK_BF16_FLOPS = {'H100': 989e12, 'H200': 989e12}
#: ``--quick``: the configs' models shrunk (ViT 32 x 2 layers, small decoders) so a CPU runs them in seconds.
QUICK_MODEL_OPTIONS = {
    'model.backbone.arch': dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2),
    'lmim': {'model.neck.in_channels': 32, 'model.neck.embed_dim': 32, 'model.neck.depth': 1,
             'model.neck.num_heads': 2, 'model.neck.ffn_dim': 64},
    'mae': {'model.neck.in_channels': 32, 'model.neck.embed_dim': 32, 'model.neck.depth': 1,
            'model.neck.num_heads': 2},
    'recognizer': {'model.encoder.in_channels': 32, 'model.encoder.out_channels': 32, 'model.decoder.n_layers': 2,
                   'model.decoder.d_model': 32, 'model.decoder.n_head': 2, 'model.decoder.d_k': 16,
                   'model.decoder.d_v': 16, 'model.decoder.d_inner': 32},
}
#: Words of the recognizer's random training samples.
WORDS = ('lmim', 'Text', 'pretrain', 'GPU', '2026', 'word!', 'recognize', 'a')
MEASUREMENTS = ('lmim_train', 'mae_train', 'recognizer_train', 'recognize', 'data_workers')


@dataclass(frozen=True)
class PipelineSettings:
    """What to measure and how.

    Attributes:
        device: ``'cpu'`` or ``'cuda'``.
        dtype: ``'bf16'`` / ``'fp16'`` (``AmpOptimWrapper``) or ``'fp32'``; fp16 needs CUDA.
        batches: Training batches of the pretraining steps.
        finetune_batch: Batch of the recognizer's training step.
        recognize_batch: Batch of greedy / beam-5 inference.
        workers: Dataloader worker counts of ``data_workers``.
        repeats: Timed rounds (medians).
        quick: Tiny models (:data:`QUICK_MODEL_OPTIONS`).
        compile: ``torch.compile`` the models.
    """

    device: str = 'cuda'
    dtype: str = 'bf16'
    batches: Tuple[int, ...] = (64, 128, 256)
    finetune_batch: int = 256
    recognize_batch: int = 256
    workers: Tuple[int, ...] = (1, 2, 4, 8, 16)
    repeats: int = 10
    quick: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in ('bf16', 'fp16', 'fp32'):
            raise ValueError(f"dtype must be 'bf16', 'fp16' or 'fp32', got {self.dtype!r}")
        if self.dtype == 'fp16' and self.device != 'cuda':
            raise ValueError('dtype fp16 needs --device cuda (CPU autocast is bf16 only)')
        if self.device == 'cuda' and not torch.cuda.is_available():
            raise RuntimeError('--device cuda: no CUDA device is available')

    @property
    def sizes(self) -> Sizes:
        """Reference model sizes matching the configs' (or the quick ones)."""
        return QUICK if self.quick else FULL_CUDA


QUICK_PIPELINE = PipelineSettings(device='cpu', batches=(4, ), finetune_batch=4, recognize_batch=4, workers=(0, 1),
                                  repeats=2, quick=True)


# ---------------------------------------------------------------------------------------------- models and data
def load_config(name: str, quick: bool) -> Any:
    """The config ``name`` of :data:`CONFIGS` (teacher from the student, no checkpoint), shrunk when ``quick``."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(CONFIGS[name]))
    if cfg.model.get('teacher_init_cfg'):
        cfg.model.teacher_init_cfg = None
    if quick:
        cfg.merge_from_dict({'model.backbone.arch': QUICK_MODEL_OPTIONS['model.backbone.arch'],
                             **QUICK_MODEL_OPTIONS[name]})
    return cfg


def build_model(cfg: Any, device: str) -> nn.Module:
    """``cfg.model`` built in its default scope, initialised, on ``device``, in training mode."""
    from mmengine.registry import MODELS, DefaultScope

    from lmim_mm.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model.to(device).train()


def build_optim_wrapper(model: nn.Module, cfg: Any, dtype: str) -> Any:
    """The config's optimizer wrapper with ``dtype``: ``AmpOptimWrapper`` (bf16 / fp16 + dynamic loss scale) or
    ``OptimWrapper`` (fp32). On CPU mmengine refuses ``AmpOptimWrapper`` at construction although its autocast
    handles CPU bf16: that check is lifted for the construction only."""
    from mmengine.optim import build_optim_wrapper as build

    wrapper = copy.deepcopy(cfg.optim_wrapper)
    for key in ('dtype', 'loss_scale'):
        wrapper.pop(key, None)
    if dtype == 'fp32':
        wrapper.type = 'OptimWrapper'
    else:
        wrapper.update(type='AmpOptimWrapper', dtype='bfloat16' if dtype == 'bf16' else 'float16',
                       loss_scale='dynamic')
    with ExitStack() as stack:
        if dtype != 'fp32' and not torch.cuda.is_available():
            stack.enter_context(mock.patch('mmengine.optim.optimizer.amp_optimizer_wrapper.is_cuda_available',
                                           return_value=True))
        return build(model, wrapper)


def random_images(count: int, seed: int = 0, size: Tuple[int, int] = (32, 128)) -> List[np.ndarray]:
    """``count`` random H x W x 3 uint8 images (the timing does not depend on their content)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(count)]


def pretrain_batch(cfg: Any, batch: int) -> dict:
    """``batch`` samples through the config's own training transforms (views + mask + ``PackInputs``),
    collated with ``default_collate`` as its dataloader does."""
    from mmengine.dataset import Compose, default_collate
    from mmengine.registry import TRANSFORMS, DefaultScope

    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        pipeline = Compose([TRANSFORMS.build(copy.deepcopy(t)) for t in cfg.train_dataloader.dataset.pipeline])
        samples = [pipeline(dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], sample_idx=i))
                   for i, img in enumerate(random_images(batch))]
    return default_collate(samples)


def recognizer_batch(batch: int) -> dict:
    """``batch`` labeled 32 x 128 samples packed by mmocr's ``PackTextRecogInputs``, ``pseudo_collate``-d."""
    import mmocr.datasets  # noqa: F401  (registers mmocr's transforms)
    from mmengine.dataset import pseudo_collate
    from mmocr.datasets.transforms import PackTextRecogInputs

    pack = PackTextRecogInputs()
    samples = [pack(dict(img=img, img_path=f'random_{i}.png', ori_shape=img.shape[:2], img_shape=img.shape[:2],
                         pad_shape=img.shape[:2], valid_ratio=1.0, gt_texts=[WORDS[i % len(WORDS)]]))
               for i, img in enumerate(random_images(batch))]
    return pseudo_collate(samples)


#: Submodules compiled by ``--compile``: the encoders and the pretraining decoders (tensor in, tensor out, fixed
#: shapes per batch); the data preprocessor, losses and the recognizer's step-by-step decoding stay eager.
COMPILED_PARTS = ('backbone', 'teacher', 'neck')


def maybe_compile(model: nn.Module, settings: PipelineSettings) -> nn.Module:
    """``model`` with :data:`COMPILED_PARTS` compiled (``torch.compile``, default mode) when ``settings.compile``."""
    if settings.compile:
        for name in COMPILED_PARTS:
            part = getattr(model, name, None)
            if isinstance(part, nn.Module):
                part.compile()
    return model


# ---------------------------------------------------------------------------------------------- FLOPs
def flops_per_image(cfg: Any) -> float:
    """Forward FLOPs of one 32 x 128 image: :func:`lmim_mm.apis.count_flops` (multiply-adds) x 2."""
    from lmim_mm.apis import count_flops

    return 2.0 * count_flops(copy.deepcopy(cfg), (32, 128))['flops']


def peak_flops(device: str) -> Tuple[str, Optional[float]]:
    """(chip name as torch reports it, its dense bf16 peak FLOP/s or None)."""
    if device != 'cuda':
        from benchmarks.harness import machine_name
        return machine_name(device), None
    name = torch.cuda.get_device_name()
    return name, next((peak for key, peak in PEAK_BF16_FLOPS.items() if key in name), None)


# ---------------------------------------------------------------------------------------------- results
def result(name: str, settings: PipelineSettings, batch: int, seconds: float, ref_seconds: Optional[float],
           flops: Optional[float], peak_mem_gib: Optional[float] = None, dtype: Optional[str] = None,
           **extra: Any) -> Dict[str, Any]:
    """One JSON-ready line: images/s, peak memory, MFU (``flops`` per image, None: not reported) and ratio."""
    device, peak = peak_flops(settings.device)
    images_per_s = batch / seconds
    mfu = images_per_s * flops / peak if flops is not None and peak is not None else None
    out = dict(name=name, device=device, batch=batch, dtype=dtype or settings.dtype, images_per_s=images_per_s,
               peak_mem_gib=peak_mem_gib, mfu=mfu, ratio=ref_seconds / seconds if ref_seconds else None,
               reference_images_per_s=batch / ref_seconds if ref_seconds else None, compile=settings.compile,
               flops_per_image=flops, peak_bf16_flops=peak, torch=torch.__version__, cuda=torch.version.cuda,
               **extra)
    return {k: float(f'{v:.4g}') if isinstance(v, float) else v for k, v in out.items()}


def peak_memory_gib(step: Callable[[], Any], settings: PipelineSettings) -> Optional[float]:
    """``torch.cuda.max_memory_allocated`` (GiB) over a warm-up call and one more call of ``step``, with only our
    model on the device (weights, optimizer states, activations); None on CPU."""
    step()
    if settings.device != 'cuda':
        return None
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**30


def timed(steps: Dict[str, Callable[[], Any]], settings: PipelineSettings) -> Dict[str, float]:
    """Median seconds of each step, alternating (one warm-up call each, compiling where asked)."""
    timings = time_alternating(steps, settings.repeats, settings.device)
    return {name: timings.median(name) for name in steps}


# ---------------------------------------------------------------------------------------------- references
def reference_train_step(model: nn.Module, loss: Callable[[], torch.Tensor], settings: PipelineSettings
                         ) -> Callable[[], float]:
    """The authors' step: ``AdamW`` defaults, fp16 autocast + ``GradScaler`` on CUDA (bf16 autocast on CPU)."""
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1.5e-4,
                                  betas=(0.9, 0.95), weight_decay=0.05)
    dtype = torch.float16 if settings.device == 'cuda' else torch.bfloat16
    scaler = torch.amp.GradScaler(settings.device, enabled=dtype == torch.float16)

    def step() -> float:
        with torch.autocast(settings.device, dtype=dtype):
            value = loss()
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(value).backward()
        scaler.step(optimizer)
        scaler.update()
        return value.detach()

    return step


def reference_pretrain_step(name: str, settings: PipelineSettings, batch: int) -> Callable[[], float]:
    """ReferenceLMIM / ReferenceMAE training step on ``batch`` normalised random images and masks."""
    from benchmarks.harness import draw_masks
    from lmim_mm.datasets.transforms.mask_transform import RandomPatchMaskGenerator

    images = reference_images(batch, settings.device)
    if name == 'lmim':
        model = build_lmim(settings.sizes)['reference'].to(settings.device).train()
        mask = draw_masks(RandomPatchMaskGenerator(0.8), batch, settings.device).float()
        return reference_train_step(model, lambda: model(images, images.flip(1), mask)['loss'], settings)
    model = build_mae(settings.sizes)['reference'].to(settings.device).train()
    mask = draw_masks(RandomPatchMaskGenerator(0.75), batch, settings.device).float()
    return reference_train_step(model, lambda: model(images, mask)['loss'], settings)


def reference_recognizer(settings: PipelineSettings) -> nn.Module:
    """``ReferenceRecognizer`` of the recognizer config's size, on the device."""
    from lmim_reference.recognizer import ReferenceRecognizer

    torch.manual_seed(0)
    return ReferenceRecognizer(*recognizer_configs(settings.sizes)).to(settings.device)


def reference_images(batch: int, device: str) -> torch.Tensor:
    """Normalised random images (N, 3, 32, 128) on ``device``."""
    return torch.from_numpy(np.stack(random_images(batch))).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(device)


# ---------------------------------------------------------------------------------------------- measurements
def measure_pretrain(name: str, settings: PipelineSettings) -> Iterator[Dict[str, Any]]:
    """``lmim_train`` / ``mae_train``: training steps of the config's model at each batch of ``settings``."""
    cfg = load_config(name, settings.quick)
    flops = 3 * flops_per_image(cfg)
    model = maybe_compile(build_model(cfg, settings.device), settings)
    wrapper = build_optim_wrapper(model, cfg, settings.dtype)
    for batch in settings.batches:
        ours = partial(model.train_step, pretrain_batch(cfg, batch), wrapper)
        peak = peak_memory_gib(ours, settings)
        reference = reference_pretrain_step(name, settings, batch)
        seconds = timed(dict(ours=ours, reference=reference), settings)
        yield result(f'{name}_train', settings, batch, seconds['ours'], seconds['reference'], flops, peak,
                     reference_dtype='fp16' if settings.device == 'cuda' else 'bf16')
        del reference


def measure_recognizer_train(settings: PipelineSettings) -> Iterator[Dict[str, Any]]:
    """``recognizer_train``: the fine-tuning config's training step vs ``ReferenceRecognizer.forward_train``."""
    cfg = load_config('recognizer', settings.quick)
    flops = 3 * flops_per_image(cfg)
    model = maybe_compile(build_model(cfg, settings.device), settings)
    wrapper = build_optim_wrapper(model, cfg, settings.dtype)
    batch = settings.finetune_batch
    data = recognizer_batch(batch)
    peak = peak_memory_gib(lambda: model.train_step(data, wrapper), settings)
    reference = reference_recognizer(settings).train()
    images = reference_images(batch, settings.device)
    labels = torch.randint(0, 94, (batch, 25), device=settings.device)
    lengths = torch.randint(1, 26, (batch, ), device=settings.device)
    forward_train = type(reference).forward_train.__wrapped__  # without its no_grad (eval-only in the tests)

    def reference_loss() -> torch.Tensor:
        logits = forward_train(reference, images, labels, lengths)
        return F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten())

    reference_step = reference_train_step(reference, reference_loss, settings)
    seconds = timed(dict(ours=lambda: model.train_step(data, wrapper), reference=reference_step), settings)
    yield result('recognizer_train', settings, batch, seconds['ours'], seconds['reference'], flops, peak,
                 reference_dtype='fp16' if settings.device == 'cuda' else 'bf16')


def measure_recognize(settings: PipelineSettings) -> Iterator[Dict[str, Any]]:
    """``recognize``: ``model.test_step`` (preprocessor, encoder, greedy / beam-5 decoding, strings) of the
    config's recognizer vs the reference's greedy decoding, under autocast of ``settings.dtype``."""
    cfg = load_config('recognizer', settings.quick)
    batch = settings.recognize_batch
    data = recognizer_batch(batch)
    reference = reference_recognizer(settings).eval()
    images = reference_images(batch, settings.device)
    autocast_dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(settings.dtype)

    def under_autocast(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with torch.no_grad(), torch.autocast(settings.device, dtype=autocast_dtype or torch.float32,
                                                 enabled=autocast_dtype is not None):
                return fn()
        return run

    for beam in (0, 5):
        cfg.model.decoder.beam_width = beam
        model = maybe_compile(build_model(cfg, settings.device), settings).eval()
        ours = under_autocast(partial(model.test_step, data))
        peak = peak_memory_gib(ours, settings)
        seconds = timed(dict(ours=ours, reference=under_autocast(lambda: reference.greedy(images))), settings)
        yield result(f'recognize_{"beam5" if beam else "greedy"}', settings, batch, seconds['ours'],
                     seconds['reference'], None, peak)
        del model, ours  # ``ours`` holds the model too: free it before the next one is built


def measure_data_workers(settings: PipelineSettings) -> Iterator[Dict[str, Any]]:
    """``data_workers``: images/s of the LMIM config's training dataloader (``UnlabeledLMDBDataset`` on an LMDB
    of random word images, two views + mask, ``default_collate``) with each worker count of ``settings``."""
    import cv2
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from lmim_mm.datasets.sources import write_lmdb

    cfg = load_config('lmim', settings.quick)
    batch = max(settings.batches)
    count = 8 * batch
    with tempfile.TemporaryDirectory() as tmp:
        samples = ((cv2.imencode('.png', img)[1].tobytes(), None) for img in random_images(count, seed=1))
        write_lmdb(samples, Path(tmp) / 'lmdb', total=count, progress=False)
        for workers in settings.workers:
            loader_cfg = copy.deepcopy(cfg.train_dataloader)
            loader_cfg.dataset.data_root = [str(Path(tmp) / 'lmdb')]
            loader_cfg.update(batch_size=batch, num_workers=workers, persistent_workers=workers > 0,
                              pin_memory=settings.device == 'cuda')
            with DefaultScope.overwrite_default_scope(cfg.default_scope):
                loader = Runner.build_dataloader(loader_cfg, seed=0)
            batches = iter(loader)
            next(batches)  # workers started, first batch ready
            start = time.perf_counter()
            images = sum(len(b['data_samples']) for b in batches)
            seconds = time.perf_counter() - start
            yield result('data_workers', settings, batch, seconds * batch / max(images, 1), None, None,
                         dtype='uint8', workers=workers, cpu_cores=os.cpu_count())
            del batches, loader


def run_pipeline(settings: PipelineSettings, names: Sequence[str] = MEASUREMENTS) -> Iterator[Dict[str, Any]]:
    """Run the named measurements of :data:`MEASUREMENTS` in that order, yielding JSON-ready lines."""
    from mmengine.logging import MMLogger

    unknown = sorted(set(names) - set(MEASUREMENTS))
    if unknown:
        raise ValueError(f'unknown measurement(s) {unknown}; choose from {list(MEASUREMENTS)}')
    MMLogger.get_instance('lmim_benchmark', log_level='WARNING')  # the current logger: no init_weights reports
    runs = dict(lmim_train=lambda: measure_pretrain('lmim', settings),
                mae_train=lambda: measure_pretrain('mae', settings),
                recognizer_train=lambda: measure_recognizer_train(settings),
                recognize=lambda: measure_recognize(settings), data_workers=lambda: measure_data_workers(settings))
    for name in MEASUREMENTS:
        if name in names:
            yield from runs[name]()


__all__ = ['CONFIGS', 'MEASUREMENTS', 'PEAK_BF16_FLOPS', 'PipelineSettings', 'QUICK_PIPELINE', 'build_model',
           'build_optim_wrapper', 'flops_per_image', 'load_config', 'pretrain_batch', 'recognizer_batch',
           'run_pipeline']
