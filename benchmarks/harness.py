"""Speed of lmim_mm against in-tree re-creations of the authors' computation (``python -m benchmarks``).

Protocol: each measurement builds our implementation and its reference (same weights, same
inputs), warms both up with one call on a 2-sample slice (optimizer states, caches; mask
generators: one full call), then runs ``repeats`` rounds that call every implementation once,
flipping the order each round, and reports the median wall time of each (CUDA calls are
synchronised). Alternating in one process is what makes ratios meaningful on a machine shared with
other jobs.

References: :class:`~lmim_reference.pretrain.ReferenceLMIM` (explicit softmax attention,
``nn.MultiheadAttention`` decoder, default ``torch.optim.AdamW``),
:class:`~lmim_reference.mae.ReferenceMAE`,
:class:`~lmim_reference.recognizer.ReferenceRecognizer` (greedy decoding that re-runs
the whole decoder for every step) and :class:`~lmim_reference.two_view.ReferenceTwoView`
(imgaug + torchvision). Mask generators have no reference.

Peak memory (``pretrain_step`` only): the warm-up step and one full training step of each
implementation run once more in a fresh spawned process holding that implementation alone. On CUDA
it reports ``torch.cuda.max_memory_allocated`` (weights included); on CPU, where one process's
resident set mixes everything it ever allocated, the growth of the peak RSS (``getrusage``
``ru_maxrss``) over those two steps from the RSS just before them, i.e. activations + gradients +
optimizer states. Other measurements report ``peak_mem_mb = None``. Every line also carries the
seconds of each timed call (``runs_s``) to show the noise.

Measurements import what they measure, so ``recognize`` runs with torch + mmengine alone (e.g. on a
GPU machine without the OpenMMLab stack). Pretraining steps take their masks as data (drawn once, as
the data pipeline does); ``mask_gen`` times the pipeline's mask transforms.
"""
import gc
import io
import json
import os
import platform
import resource
import statistics
import string
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn

#: Units whose larger values are better (ratio = ours / reference); other units are times.
THROUGHPUT_UNITS = ('images/s', )
#: English charset of the recognizer (METHOD.md sec. 5): class ids 0..93, then EOS = 94.
CHARSET = string.digits + string.ascii_lowercase + string.ascii_uppercase + string.punctuation
EOS_IDX = len(CHARSET)
#: Mask generators timed by ``mask_gen``: case name -> config.
MASK_CASES: Dict[str, dict] = {
    'random_patch_0.75': dict(type='RandomPatchMaskGenerator', ratio=0.75),
    'random_patch_0.8': dict(type='RandomPatchMaskGenerator', ratio=0.8),
    'blockwise_0.6': dict(type='BlockwiseMaskGenerator', ratio=0.6),
    'span_0.5': dict(type='SpanMaskGenerator', ratio=0.5),
    'mixed_0.75': dict(type='MixedMaskGenerator', ratio=0.75),
}
Step = Callable[[], Any]


# ---------------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Sizes:
    """Model and batch sizes of a run.

    Attributes:
        vit: Encoder (embed_dim, depth, num_heads).
        lmim_decoder: LMIM alignment decoder (dim, depth, heads, ffn_dim).
        mae_decoder: MAE pixel decoder (dim, depth, heads).
        text_decoder: Recognizer decoder (d_model, layers, heads, d_inner); d_k = d_v = d_model / heads.
        pretrain_batch: Batch of ``pretrain_step``.
        mae_batch: Batch of ``mae_step`` / ``mms_step``.
        recognize_batches: Batches of ``recognize``.
        data_images: Images per timed call of ``data_two_view``.
        mask_batch: Masks per call of ``mask_gen``.
    """

    vit: Tuple[int, int, int] = (384, 12, 6)
    lmim_decoder: Tuple[int, int, int, int] = (512, 2, 16, 2048)
    mae_decoder: Tuple[int, int, int] = (512, 8, 16)
    text_decoder: Tuple[int, int, int, int] = (512, 6, 8, 256)
    pretrain_batch: int = 32
    mae_batch: int = 16
    recognize_batches: Tuple[int, ...] = (1, 64)
    data_images: int = 200
    mask_batch: int = 512


#: Paper sizes (ViT-S); CPU batches chosen to keep a full run near 10 minutes on 2 cores.
FULL_CPU = Sizes()
#: Paper sizes with GPU training batches.
FULL_CUDA = replace(FULL_CPU, pretrain_batch=256, mae_batch=256, recognize_batches=(1, 64, 256))
#: Tiny models for smoke tests (``--quick``).
QUICK = Sizes(vit=(32, 2, 2), lmim_decoder=(32, 1, 2, 64), mae_decoder=(32, 1, 2), text_decoder=(32, 2, 2, 32),
              pretrain_batch=4, mae_batch=4, recognize_batches=(1, 4), data_images=8, mask_batch=512)


@dataclass(frozen=True)
class BenchmarkSettings:
    """Where and how to measure.

    Attributes:
        data_root: ``real_benchmarks`` folder (``iiit5k_test/IMG``, ``iiit5k_train/IMG``).
        device: ``'cpu'`` or ``'cuda'``.
        dtype: ``'fp32'`` or ``'bf16'`` (autocast around the model computation).
        sizes: :class:`Sizes`.
        repeats: Timed rounds per measurement (medians are reported).
    """

    data_root: Path
    device: str = 'cpu'
    dtype: str = 'fp32'
    sizes: Sizes = FULL_CPU
    repeats: int = 5

    def __post_init__(self) -> None:
        if self.dtype not in ('fp32', 'bf16'):
            raise ValueError(f"dtype must be 'fp32' or 'bf16', got {self.dtype!r}")
        if self.device not in ('cpu', 'cuda'):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if self.device == 'cuda' and not torch.cuda.is_available():
            raise RuntimeError('--device cuda: no CUDA device is available')
        if self.repeats < 1:
            raise ValueError(f'repeats must be >= 1, got {self.repeats}')

    def autocast(self) -> ContextManager:
        """Autocast to bfloat16 when ``dtype == 'bf16'``, else a no-op."""
        return torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.dtype == 'bf16')


def machine_name(device: str) -> str:
    """GPU name, or CPU model and core count."""
    if device == 'cuda':
        return torch.cuda.get_device_name()
    cpuinfo = Path('/proc/cpuinfo')
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    model = next((line.split(':', 1)[1].strip() for line in lines if line.startswith('model name')),
                 platform.processor() or platform.machine())
    return f'{model}, {os.cpu_count()} cores'


# ---------------------------------------------------------------------------------------------- results
@dataclass
class Measurement:
    """One result line.

    Attributes:
        name: Measurement group (``pretrain_step``, ``recognize``, ...).
        case: Variant within the group (e.g. ``'greedy'``, ``'blockwise_0.6'``) or None.
        ours: Our median, in ``unit``.
        reference: The reference's median, or None.
        unit: ``'images/s'`` (higher is better) or ``'ms'`` (lower is better).
        device: ``'cpu'`` / ``'cuda'``.
        dtype: ``'fp32'`` / ``'bf16'``.
        batch: Samples per timed call.
        peak_mem_mb: Our peak memory (see the module docstring) or None.
        extra: Further fields (reference peak memory, parity checks, settings).
    """

    name: str
    case: Optional[str]
    ours: float
    reference: Optional[float]
    unit: str
    device: str
    dtype: str
    batch: int
    peak_mem_mb: Optional[float] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> Optional[float]:
        """Speed-up of ours over the reference (> 1: ours is faster); None without a reference."""
        if self.reference is None:
            return None
        return self.ours / self.reference if self.unit in THROUGHPUT_UNITS else self.reference / self.ours

    def to_dict(self) -> Dict[str, Any]:
        """Flat JSON-ready dict: the attributes, ``ratio`` and the ``extra`` fields."""
        out = dict(name=self.name, case=self.case, ours=self.ours, reference=self.reference, ratio=self.ratio,
                   unit=self.unit, device=self.device, dtype=self.dtype, batch=self.batch,
                   peak_mem_mb=self.peak_mem_mb, **self.extra)
        return {k: float(f'{v:.4g}') if isinstance(v, float) else v for k, v in out.items()}

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(self.to_dict())


# ---------------------------------------------------------------------------------------------- timing
def synchronize(device: str) -> None:
    """Wait for queued CUDA work (no-op on CPU)."""
    if device == 'cuda':
        torch.cuda.synchronize()


@dataclass
class Timings:
    """Wall seconds of every call and the last output of each implementation."""

    seconds: Dict[str, List[float]]
    outputs: Dict[str, Any]

    def median(self, name: str) -> float:
        """Median seconds of ``name``."""
        return statistics.median(self.seconds[name])


def time_alternating(steps: Mapping[str, Step], repeats: int, device: str,
                     warmup: Optional[Mapping[str, Step]] = None) -> Timings:
    """Time implementations alternately: ``repeats`` rounds, each calling every step once.

    Args:
        steps: Name -> callable doing one timed unit of work (its return value is kept).
        repeats: Rounds; the call order flips every round so no step always follows another.
        device: For synchronisation around each call.
        warmup: Name -> callable run once before timing (e.g. the step on a small slice);
            None runs each step once.

    Returns:
        :class:`Timings`.
    """
    names = list(steps)
    for name in names:
        (warmup or steps)[name]()
    seconds: Dict[str, List[float]] = {name: [] for name in names}
    outputs: Dict[str, Any] = {}
    for round_index in range(repeats):
        for name in (names if round_index % 2 == 0 else names[::-1]):
            synchronize(device)
            start = time.perf_counter()
            outputs[name] = steps[name]()
            synchronize(device)
            seconds[name].append(time.perf_counter() - start)
    return Timings(seconds, outputs)


# ---------------------------------------------------------------------------------------------- data
def image_files(folder: Path, count: int) -> List[Path]:
    """The first ``count`` images of a folder (``1.png``, ``2.png``, ..., ``10.png``, ...)."""
    files = sorted((p for p in Path(folder).iterdir() if p.suffix.lower() in ('.png', '.jpg', '.jpeg', '.bmp')),
                   key=lambda p: (len(p.stem), p.stem))  # numeric stems in numeric order
    if len(files) < count:
        raise FileNotFoundError(f'{folder}: {count} images needed, found {len(files)}')
    return files[:count]


def load_word_images(folder: Path, count: int, size: Tuple[int, int] = (32, 128)) -> torch.Tensor:
    """Real word images, resized (bicubic) and normalised with mean = std = 0.5.

    Args:
        folder: Image folder (e.g. ``iiit5k_test/IMG``).
        count: Images to load (the first ones, see :func:`image_files`).
        size: Output (H, W).

    Returns:
        float32 (count, 3, H, W) in [-1, 1].
    """
    import numpy as np
    from PIL import Image

    arrays = [np.asarray(Image.open(p).convert('RGB').resize(size[::-1], Image.BICUBIC)) for p in
              image_files(folder, count)]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def decode_words(ids: torch.Tensor) -> List[str]:
    """Decoded strings up to the first EOS; special classes show as ``<id>``."""
    out = []
    for row in ids.tolist():
        row = row[:row.index(EOS_IDX)] if EOS_IDX in row else row
        out.append(''.join(CHARSET[i] if i < EOS_IDX else f'<{i}>' for i in row))
    return out


# ---------------------------------------------------------------------------------------------- training steps
def loss_of(model: nn.Module, impl: str) -> Callable[..., torch.Tensor]:
    """``loss(*views, mask=...)`` of a pretraining model, as a scalar; ``mask`` bool (N, L), True = masked.

    Args:
        model: Ours (``losses(reconstruct(*views, mask=mask))``) or a reference
            (``model(*views, mask)['loss']``, mask 1 = removed).
        impl: ``'reference'`` or anything else for ours.
    """
    if impl == 'reference':
        return lambda *views, mask: model(*views, mask.float())['loss']
    return lambda *views, mask: sum(model.losses(model.reconstruct(*views, mask=mask)).values())


def draw_masks(generator: Any, batch: int, device: str) -> torch.Tensor:
    """``batch`` masks of a mask transform (``lmim_mm.datasets.transforms.mask_transform``) from seed 0,
    bool (batch, L) on ``device``."""
    import numpy as np
    return torch.from_numpy(generator.draw(batch, np.random.default_rng(0))).to(device)


def train_step(model: nn.Module, loss_fn: Callable[..., torch.Tensor], settings: BenchmarkSettings,
               fused: bool) -> Callable[..., torch.Tensor]:
    """One optimisation step of ``model``'s trainable parameters on given inputs.

    Args:
        model: Model whose parameters with ``requires_grad`` are optimised.
        loss_fn: ``loss_fn(*inputs)`` computes the scalar loss (run under the settings' autocast).
        settings: Device and dtype.
        fused: Our optimizer (``AdamW(fused=True)``) or the reference's (``AdamW`` defaults).

    Returns:
        ``step(*inputs, **kwargs)`` (passed to ``loss_fn``), returning the detached loss.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1.5e-4, betas=(0.9, 0.95), weight_decay=0.05,
                                  **(dict(fused=True) if fused else {}))

    def step(*inputs: torch.Tensor, **kwargs: torch.Tensor) -> torch.Tensor:
        with settings.autocast():
            loss = loss_fn(*inputs, **kwargs)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def loss_abs_diff(models: Mapping[str, nn.Module], inputs: Sequence[torch.Tensor], mask: torch.Tensor) -> float:
    """|ours - reference| of fp32 losses in eval mode (no dropout) on the same inputs and mask.

    Args:
        models: ``{'ours': ..., 'reference': ...}``; they are back in train mode afterwards.
        inputs: The views.
        mask: Bool (N, L), True = masked.
    """
    losses = []
    with torch.no_grad():
        for impl, model in models.items():
            losses.append(float(loss_of(model.eval(), impl)(*inputs, mask=mask)))
            model.train()
    return abs(losses[0] - losses[1])


def timed_steps(models: Mapping[str, nn.Module], settings: BenchmarkSettings, inputs: Sequence[torch.Tensor],
                masks: Mapping[str, torch.Tensor]) -> Timings:
    """Alternate training steps of every model on ``inputs`` and its ``masks[name]`` (warm-up: one step on 2
    samples)."""
    steps = {impl: train_step(model, loss_of(model, impl), settings, fused=impl != 'reference')
             for impl, model in models.items()}
    small = [x[:2] for x in inputs]
    return time_alternating({k: lambda k=k: steps[k](*inputs, mask=masks[k]) for k in steps}, settings.repeats,
                            settings.device, warmup={k: lambda k=k: steps[k](*small, mask=masks[k][:2]) for k in steps})


def build_lmim(sizes: Sizes) -> Dict[str, nn.Module]:
    """lmim_mm's ``LMIM`` and ``ReferenceLMIM`` with the same (random) weights, on CPU.

    Returns:
        ``{'ours': ..., 'reference': ...}``; both use the authors' 16 x 16 position tables.
    """
    from lmim_mm.converters.authors import convert_lmim_pretrain
    from lmim_mm.models.selfsup import LMIM
    from lmim_mm.utils.checkpoint import load_strict
    from lmim_reference.parity_pretrain import lmim_kwargs
    from lmim_reference.pretrain import ReferenceLMIM

    dim, depth, heads = sizes.vit
    dec_dim, dec_depth, dec_heads, ffn = sizes.lmim_decoder
    config = dict(img_size=(32, 128), patch_size=4, embed_dim=dim, depth=depth, num_heads=heads,
                  decoder_embed_dim=dec_dim, decoder_depth=dec_depth, decoder_num_heads=dec_heads, mlp_ratio=4.0)
    reference = ReferenceLMIM(**config, decoder_ffn_dim=ffn)
    ours = LMIM(**lmim_kwargs(config, ffn))
    load_strict(ours, convert_lmim_pretrain(reference.state_dict())[0], source='ReferenceLMIM state dict')
    return dict(ours=ours, reference=reference)


def pretrain_views(settings: BenchmarkSettings, batch: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(clean, guidance) of real words on the device; the guidance view is the BGR copy."""
    clean = load_word_images(settings.data_root / 'iiit5k_test' / 'IMG', batch).to(settings.device)
    return clean, clean.flip(1)


def _lmim_step_peak_mb(impl: str, settings: BenchmarkSettings, threads: int) -> float:
    """Peak memory of LMIM training steps of ``impl`` alone (runs in a fresh process with ``threads`` threads)."""
    torch.set_num_threads(threads)
    model = build_lmim(settings.sizes)[impl].to(settings.device).train()
    from lmim_mm.datasets.transforms.mask_transform import RandomPatchMaskGenerator

    views = pretrain_views(settings, settings.sizes.pretrain_batch)
    mask = draw_masks(RandomPatchMaskGenerator(0.8), settings.sizes.pretrain_batch, settings.device)
    step = train_step(model, loss_of(model, impl), settings, fused=impl != 'reference')
    if settings.device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    before = _rss_mb()
    step(*(x[:2] for x in views), mask=mask[:2])  # as in the timed runs: a warm-up step, then a full one
    step(*views, mask=mask)
    if settings.device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    return _max_rss_mb() - before


def _rss_mb() -> float:
    """Current resident set size of this process (Linux ``/proc/self/statm``)."""
    pages = int(Path('/proc/self/statm').read_text().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def _max_rss_mb() -> float:
    """Peak resident set size of this process so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == 'darwin' else peak / 2**10  # bytes on macOS, KiB on Linux


def lmim_peak_memory(settings: BenchmarkSettings) -> Dict[str, float]:
    """Peak memory (MiB) of LMIM training steps of each implementation, one fresh spawned process after the other."""
    peaks = {}
    for impl in ('ours', 'reference'):
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context('spawn')) as pool:
            peaks[impl] = pool.submit(_lmim_step_peak_mb, impl, settings, torch.get_num_threads()).result()
    return peaks


# ---------------------------------------------------------------------------------------------- measurements
def _images_per_s(batch: int, timings: Timings, name: str) -> float:
    return batch / timings.median(name)


def _common(settings: BenchmarkSettings, batch: int) -> Dict[str, Any]:
    return dict(device=settings.device, dtype=settings.dtype, batch=batch)


def _run_info(device: str, timings: Timings, names: Sequence[str], **extra: Any) -> Dict[str, Any]:
    """Machine, threads, repeats, the seconds of each timed call of ``names`` (``runs_s``) and ``extra``."""
    runs = {name: [float(f'{t:.4g}') for t in timings.seconds[name]] for name in names}
    info = dict(machine=machine_name(device), threads=torch.get_num_threads(), repeats=len(runs[names[0]]),
                runs_s=runs)
    return {**info, **extra}


def measure_pretrain_step(settings: BenchmarkSettings) -> List[Measurement]:
    """LMIM forward + backward + AdamW step, images/s: ours (SDPA, fused AdamW) vs ``ReferenceLMIM``."""
    from lmim_mm.datasets.transforms.mask_transform import RandomPatchMaskGenerator

    batch = settings.sizes.pretrain_batch
    models = {k: m.to(settings.device).train() for k, m in build_lmim(settings.sizes).items()}
    views = pretrain_views(settings, batch)
    mask = draw_masks(RandomPatchMaskGenerator(0.8), batch, settings.device)
    diff = loss_abs_diff(models, views, mask)
    timings = timed_steps(models, settings, views, dict(ours=mask, reference=mask))
    del models, views
    gc.collect()  # give the memory back before the peak-memory processes start
    peak = lmim_peak_memory(settings)
    return [Measurement('pretrain_step', None, _images_per_s(batch, timings, 'ours'),
                        _images_per_s(batch, timings, 'reference'), 'images/s', **_common(settings, batch),
                        peak_mem_mb=peak['ours'],
                        extra=_run_info(settings.device, timings, ('ours', 'reference'),
                                        reference_peak_mem_mb=peak['reference'], loss_abs_diff=diff))]


def build_mae(sizes: Sizes) -> Dict[str, nn.Module]:
    """``TextMAE`` for MAE and MMS (the same model, other masks) and ``ReferenceMAE``, same (random) weights, on CPU."""
    from lmim_mm.models.selfsup import TextMAE
    from lmim_mm.utils.checkpoint import load_strict
    from lmim_reference.mae import ReferenceMAE, to_textmae_state_dict

    dim, depth, heads = sizes.vit
    dec_dim, dec_depth, dec_heads = sizes.mae_decoder
    reference = ReferenceMAE(embed_dim=dim, depth=depth, num_heads=heads, decoder_embed_dim=dec_dim,
                             decoder_depth=dec_depth, decoder_num_heads=dec_heads)
    parts = dict(backbone=dict(type='mmpretrain.TextViT', arch=dict(embed_dims=dim, num_layers=depth, num_heads=heads),
                               pos_grid='legacy'),
                 neck=dict(type='TextMAEDecoder', in_channels=dim, embed_dim=dec_dim, depth=dec_depth,
                           num_heads=dec_heads, pos_grid='legacy'),
                 head=dict(type='TextMAEHead'))
    models = dict(mae_step=TextMAE(**parts), mms_step=TextMAE(**parts), reference=reference)
    state_dict = to_textmae_state_dict(reference.state_dict())
    for name in ('mae_step', 'mms_step'):
        load_strict(models[name], state_dict, source='ReferenceMAE state dict')
    return models


def measure_mae_steps(settings: BenchmarkSettings, names: Sequence[str] = ('mae_step', 'mms_step')
                      ) -> List[Measurement]:
    """TextMAE and/or MMS training steps vs ``ReferenceMAE``'s, images/s (the reference is timed once).

    Args:
        settings: Run settings.
        names: ``'mae_step'`` and/or ``'mms_step'``.

    Returns:
        One measurement per name, with ``loss_abs_diff`` on a shared mask (MMS: one of its mixed masks).
    """
    from lmim_mm.datasets.transforms.mask_transform import MixedMaskGenerator, RandomPatchMaskGenerator

    batch = settings.sizes.mae_batch
    models = {k: m.to(settings.device).train() for k, m in build_mae(settings.sizes).items() if
              k in (*names, 'reference')}
    imgs = load_word_images(settings.data_root / 'iiit5k_test' / 'IMG', batch).to(settings.device)
    masks = dict(mae_step=draw_masks(RandomPatchMaskGenerator(0.75), batch, settings.device),
                 mms_step=draw_masks(MixedMaskGenerator(), batch, settings.device))
    masks['reference'] = masks['mae_step']
    diffs = {name: loss_abs_diff(dict(ours=models[name], reference=models['reference']), [imgs], masks[name])
             for name in names}
    timings = timed_steps(models, settings, [imgs], masks)
    return [Measurement(name, None, _images_per_s(batch, timings, name), _images_per_s(batch, timings, 'reference'),
                        'images/s', **_common(settings, batch),
                        extra=_run_info(settings.device, timings, (name, 'reference'), loss_abs_diff=diffs[name]))
            for name in names]


def recognizer_configs(sizes: Sizes) -> Tuple[dict, dict]:
    """The reference recognizer's ``encoder_config`` and ``decoder_config`` (97 classes, 25 steps)."""
    dim, depth, heads = sizes.vit
    d_model, layers, dec_heads, d_inner = sizes.text_decoder
    encoder = dict(img_size=(32, 128), patch_size=4, embed_dim=dim, depth=depth, num_heads=heads, mlp_ratio=4.0,
                   qkv_bias=True)
    decoder = dict(n_layers=layers, d_embedding=d_model, d_model=d_model, n_head=dec_heads, d_k=d_model // dec_heads,
                   d_v=d_model // dec_heads, d_inner=d_inner, num_classes=EOS_IDX + 3, max_seq_len=25)
    return encoder, decoder


def measure_recognize(settings: BenchmarkSettings) -> List[Measurement]:
    """Recognition of real words, images/s: ours greedy / beam 5 (cached) vs the reference's greedy.

    Both hold the same randomly initialised weights (encoder, neck, decoder): ours encodes with
    ``TextViT`` (fused attention) and decodes with :func:`greedy_decode` (stops once every word has
    emitted EOS) and :func:`beam_search`; the reference encodes with timm's explicit attention and
    re-runs the decoder on the whole prefix for all 25 steps.

    Returns:
        Per batch size: a ``greedy`` line with ``identical_predictions`` (our greedy strings equal
        the reference's, up to EOS) and a ``beam5`` line (reference: the reference's greedy).
    """
    from lmim_mm.models.layers.text_decoding import beam_search, greedy_decode
    from lmim_reference.recognizer import ReferenceRecognizer, build_recognizer_modules

    torch.manual_seed(0)
    configs = recognizer_configs(settings.sizes)
    reference = ReferenceRecognizer(*configs).eval().to(settings.device)
    ours = build_recognizer_modules(*configs).eval().to(settings.device)
    ours.load_state_dict(reference.state_dict())
    decoder, steps = ours['decoder']['transformer'], reference.max_seq_len
    images = load_word_images(settings.data_root / 'iiit5k_test' / 'IMG', max(settings.sizes.recognize_batches))

    def recognize(kind: str, x: torch.Tensor) -> Step:
        def run() -> torch.Tensor:
            with torch.no_grad(), settings.autocast():
                if kind == 'reference':
                    return reference.greedy(x)[0]
                memory = ours['encoder'](ours['backbone'](x))
                if kind == 'greedy':
                    return greedy_decode(decoder, memory, steps, EOS_IDX)[0]
                return beam_search(decoder, memory, steps, EOS_IDX, beam_width=5)[0]

        return run

    results = []
    for batch in settings.sizes.recognize_batches:
        x = images[:batch].to(settings.device)
        kinds = ('greedy', 'beam5', 'reference')
        timings = time_alternating({k: recognize(k, x) for k in kinds}, settings.repeats, settings.device,
                                   warmup={k: recognize(k, x[:2]) for k in kinds})
        greedy_ids = timings.outputs['greedy']
        checks = dict(identical_predictions=decode_words(greedy_ids) == decode_words(timings.outputs['reference']),
                      ended_with_eos=sum(EOS_IDX in row for row in greedy_ids.tolist()) / batch,
                      greedy_steps=greedy_ids.shape[1])
        for kind in ('greedy', 'beam5'):
            results.append(
                Measurement('recognize', kind, _images_per_s(batch, timings, kind),
                            _images_per_s(batch, timings, 'reference'), 'images/s', **_common(settings, batch),
                            extra=_run_info(settings.device, timings, (kind, 'reference'),
                                            **(checks if kind == 'greedy' else {}))))
    return results


@contextmanager
def one_worker_thread() -> Iterator[None]:
    """Run as a data-loader worker does: one torch thread, OpenCV threading off (mmengine's default)."""
    import cv2

    threads, cv2_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(0)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv2_threads)


def measure_data_two_view(settings: BenchmarkSettings) -> List[Measurement]:
    """LMDB read + decode + clean and guidance views, images/s of one single-threaded worker.

    Ours: bytes -> ``read_image`` (OpenCV) -> ``LMIMTwoView`` -> ``PackInputs`` (uint8
    tensors; normalisation happens batched in the model's data preprocessor). Reference: bytes ->
    PIL -> ``ReferenceTwoView`` (imgaug + torchvision, normalised tensors), as the authors' workers.
    The LMDB is built in a temporary folder from ``iiit5k_train/IMG``.
    """
    import numpy as np
    from mmpretrain.datasets.transforms import PackInputs
    from PIL import Image

    from lmim_mm.datasets.image_io import read_image
    from lmim_mm.datasets.sources import LMDBSource, files_to_lmdb
    from lmim_mm.datasets.transforms.two_view import LMIMTwoView
    from lmim_reference.two_view import ReferenceTwoView

    count = settings.sizes.data_images
    files = image_files(settings.data_root / 'iiit5k_train' / 'IMG', count)
    ours_views, pack, reference_views = LMIMTwoView(), PackInputs(), ReferenceTwoView()
    with tempfile.TemporaryDirectory() as tmp:
        files_to_lmdb([(str(p), None) for p in files], Path(tmp) / 'lmdb', progress=False)
        reader = LMDBSource(str(Path(tmp) / 'lmdb'))

        def ours(indices: Sequence[int]) -> Step:
            return lambda: [pack(ours_views(dict(img=read_image(reader.image(i), reader.img_path(i)), sample_idx=i)))
                            for i in indices]

        def reference(indices: Sequence[int]) -> Step:
            return lambda: [reference_views(Image.open(io.BytesIO(reader.image(i))).convert('RGB')) for i in indices]

        indices = range(count)
        np.random.seed(0)
        with one_worker_thread(), warnings.catch_warnings():
            warnings.filterwarnings('ignore', category=FutureWarning, module='imgaug')  # its scikit-image calls
            timings = time_alternating(dict(ours=ours(indices), reference=reference(indices)), settings.repeats,
                                       'cpu', warmup=dict(ours=ours(indices[:2]), reference=reference(indices[:2])))
        reader.close()
    return [Measurement('data_two_view', None, _images_per_s(count, timings, 'ours'),
                        _images_per_s(count, timings, 'reference'), 'images/s', device='cpu', dtype='uint8',
                        batch=count, extra=_run_info('cpu', timings, ('ours', 'reference'), threads=1))]


def measure_mask_gen(settings: BenchmarkSettings) -> List[Measurement]:
    """Milliseconds per batch of ``mask_batch`` masks on the 8 x 32 grid, for each of :data:`MASK_CASES` (CPU,
    where the data workers draw them)."""
    import numpy as np
    from mmpretrain.registry import TRANSFORMS

    import lmim_mm.datasets.transforms.mask_transform  # noqa: F401  (registers the mask transforms)

    batch = settings.sizes.mask_batch
    rng = np.random.default_rng(0)
    steps = {case: (lambda g=TRANSFORMS.build(cfg): g.draw(batch, rng)) for case, cfg in MASK_CASES.items()}
    repeats = 4 * settings.repeats  # cheap, so more rounds
    timings = time_alternating(steps, repeats, 'cpu')
    return [Measurement('mask_gen', case, 1000 * timings.median(case), None, 'ms', device='cpu', dtype='bool',
                        batch=batch, extra=_run_info('cpu', timings, (case, ),
                                        num_masked=int(timings.outputs[case][0].sum())))
            for case in steps]


#: Measurement groups in run order; ``mae_step`` and ``mms_step`` share one run of the reference.
MEASUREMENTS = ('pretrain_step', 'mae_step', 'mms_step', 'recognize', 'data_two_view', 'mask_gen')


def run_benchmarks(settings: BenchmarkSettings, names: Sequence[str] = MEASUREMENTS) -> Iterator[Measurement]:
    """Run the named measurement groups in :data:`MEASUREMENTS` order, yielding results as they come.

    Raises:
        ValueError: an unknown name.
    """
    unknown = sorted(set(names) - set(MEASUREMENTS))
    if unknown:
        raise ValueError(f'unknown measurement(s) {unknown}; choose from {list(MEASUREMENTS)}')
    single: Dict[str, Callable[[BenchmarkSettings], List[Measurement]]] = dict(
        pretrain_step=measure_pretrain_step, recognize=measure_recognize, data_two_view=measure_data_two_view,
        mask_gen=measure_mask_gen)
    mae_names = [n for n in ('mae_step', 'mms_step') if n in names]
    for name in MEASUREMENTS:
        if name in names and name in single:
            yield from single[name](settings)
        elif mae_names and name == mae_names[0]:
            yield from measure_mae_steps(settings, mae_names)
