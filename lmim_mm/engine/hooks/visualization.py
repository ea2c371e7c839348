"""Pictures written during runs: masked reconstructions while pretraining, recognised words when evaluating.

- :class:`PretrainVisualizationHook`: per sample of a fixed batch the input, its mask and, for
  TextMAE / MMS, the reconstruction (visible patches of the input + predicted patches) or, for LMIM,
  the per-token cosine similarity of prediction and target plus the guidance view.
- :class:`RecognitionSamplesHook`: the first images of an evaluation with prediction, score and
  ground truth, green where the word is right by the run's own evaluator metrics (WAICS for Latin
  scripts, the Chinese metric for Chinese: :class:`~lmim_mm.evaluation.TextScorer`), red where not.

Images are assumed to be loaded in BGR order, as mmcv loads them; the data preprocessor's
``bgr_to_rgb`` / ``to_rgb`` setting and its mean / std tell how the model's inputs relate to them.
"""
import random
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from lmim_mm.evaluation.scoring import TextScorer
from lmim_mm.models.selfsup.base import as_views
from lmim_mm.registry import register
from lmim_mm.visualization import (captioned, colorbar_strip, compose, grey_out, heatmap, save_rgb, text_strip,
                                   to_rgb_uint8, token_to_pixel_mask, upscale)
from lmim_mm.visualization.images import BLACK, GREEN, RED
from .exact_resume import rng_state, set_rng_state

if TYPE_CHECKING:  # imported at run time in ``panels``: lmim_mm.models imports lmim_mm.engine, which imports this
    from lmim_mm.models.selfsup import LMIM, TextMAE

#: Title of LMIM's similarity column, drawn with a colour bar from -1 to 1.
SIMILARITY_TITLE = 'cos(pred, target)'


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP / FSDP wrapper, or ``model`` itself."""
    return model.module if is_model_wrapper(model) else model


def tensor_to_rgb(img: torch.Tensor, preprocessor: nn.Module, normalised: bool) -> np.ndarray:
    """One image (C, H, W) as RGB uint8 (H, W, 3).

    Args:
        img: A raw image from the dataloader (uint8, BGR) or, with ``normalised``, one the data
            preprocessor made (channels swapped if it converts BGR to RGB, then normalised).
        preprocessor: The model's data preprocessor (mmengine ``ImgDataPreprocessor`` family).
        normalised: ``img`` came out of the preprocessor.

    Returns:
        The displayable image.
    """
    mean = std = None
    converted = normalised and bool(getattr(preprocessor, '_channel_conversion', False))
    if normalised and getattr(preprocessor, '_enable_normalize', False):
        mean, std = preprocessor.mean.flatten().cpu().numpy(), preprocessor.std.flatten().cpu().numpy()
    return to_rgb_uint8(img.detach().float().cpu().numpy(), mean, std, bgr=not converted)


def patch_grid(backbone: nn.Module) -> Tuple[int, Tuple[int, int]]:
    """Patch side and token grid ``(h, w)`` of a ViT backbone with a ``patch_embed``."""
    grid = tuple(backbone.patch_embed.grid_size)
    return backbone.patch_embed.img_size[0] // grid[0], grid


def unpatchify(patches: torch.Tensor, patch_size: int, grid: Tuple[int, int]) -> torch.Tensor:
    """Inverse of ``TextMAEHead.patchify``: (N, h * w, p * p * C) -> (N, C, h * p, w * p)."""
    n, _, dims = patches.shape
    (h, w), p = grid, patch_size
    x = patches.reshape(n, h, w, p, p, dims // (p * p))
    return torch.einsum('nhwpqc->nchpwq', x).reshape(n, -1, h * p, w * p)


def mae_reconstruction(model: 'TextMAE', imgs: torch.Tensor,
                       generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    """Masked reconstruction of TextMAE / MMS: visible patches of ``imgs``, predicted patches elsewhere.

    With a norm-pix head the prediction of a patch is in units of that patch's own statistics; it
    is mapped back with the mean and std of the same patch of ``imgs`` (as MAE's visualisation).

    Args:
        model: The algorithm.
        imgs: Normalised images (N, C, H, W).
        generator: Random generator of the mask, on ``imgs.device``.

    Returns:
        mask (N, L) bool, True = masked; reconstruction (N, C, H, W) in the normalised space of ``imgs``.
    """
    latent, mask, ids_restore = model.encode_masked(imgs, generator=generator)
    pred = model.neck(latent, ids_restore).float()
    head = model.head
    target = head.patchify(imgs.float())
    if head.norm_pix:
        var, mean = torch.var_mean(target, dim=-1, keepdim=True)
        pred = pred * (var + head.norm_pix_eps).sqrt() + mean
    mask = mask.bool()
    patches = torch.where(mask.unsqueeze(-1), pred, target)
    return mask, unpatchify(patches, head.patch_size, tuple(model.backbone.patch_embed.grid_size))


def lmim_similarity(model: 'LMIM', clean: torch.Tensor, guidance: torch.Tensor,
                    generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-token cosine similarity of LMIM's prediction and target (normalised teacher features).

    Args:
        model: The algorithm.
        clean: Clean view (N, C, H, W), normalised.
        guidance: Guidance view (N, C, H, W), normalised.
        generator: Random generator of the mask, on ``clean.device``.

    Returns:
        mask (N, L) bool, True = masked; cosine similarity (N, L) float.
    """
    out = model.reconstruct(clean, guidance, generator=generator)
    target = model.head.construct_target(out['teacher'])
    return out['mask'].bool(), F.cosine_similarity(out['pred'].float(), target.float(), dim=-1)


def first_samples(loader: DataLoader, num_samples: int, seed: int) -> dict:
    """The first ``num_samples`` samples of ``loader.dataset``, collated by ``loader.collate_fn``.

    Loads in the calling process (no workers are started or advanced) with Python / numpy / torch
    seeded by ``seed``, so random pipelines give the same batch every run; the global RNG states
    are restored afterwards, so training draws the same numbers as without this call. ``None``
    samples (skipped by lazy datasets) are passed over.

    Raises:
        ValueError: the dataset yields no sample.
    """
    dataset, samples = loader.dataset, []
    state = rng_state()
    try:
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        for index in range(len(dataset)):
            sample = dataset[index]
            if sample is not None:
                samples.append(sample)
            if len(samples) == num_samples:
                break
    finally:
        set_rng_state(state)
    if not samples:
        raise ValueError(f'{type(dataset).__name__} of {len(dataset)} items yields no sample to visualise')
    return loader.collate_fn(samples)


@register('HOOKS')
class PretrainVisualizationHook(Hook):
    """Save masked-image-modelling pictures of a fixed batch during pretraining.

    In ``before_train`` the hook takes the first ``num_samples`` samples of the validation set
    (the training set if there is no validation loop) with :func:`first_samples`. After every
    ``interval_epochs`` epochs (epoch-based loops), every ``interval_iters`` iterations (if set)
    and at the end of training it runs the model on them in eval mode under ``no_grad``, with a
    mask from a ``torch.Generator`` seeded by ``seed`` (the same mask every time), and writes
    ``<work_dir>/<out_dir>/epoch_<k>.png`` or ``iter_<k>.png`` on the main process: a title line,
    then one row per sample of ``scale``-times enlarged panels

    - TextMAE / MMS: input, mask (masked patches greyed), reconstruction (visible input patches +
      predicted patches, un-normalised per patch for norm-pix heads);
    - LMIM: clean input, mask, per-token cosine similarity of prediction and target on the masked
      tokens (viridis from -1 to 1, visible tokens white), guidance view.

    Args:
        interval_epochs: Epoch interval for epoch-based loops.
        interval_iters: Iteration interval; None draws only per epoch and at the end.
        num_samples: Rows of the picture.
        out_dir: Folder under ``runner.work_dir``.
        seed: Seed of the data pipeline when taking the batch and of the masks.
        scale: Integer enlargement of each panel.
    """

    def __init__(self, interval_epochs: int = 1, interval_iters: Optional[int] = None, num_samples: int = 8,
                 out_dir: str = 'vis', seed: int = 0, scale: int = 2) -> None:
        for name, value in dict(interval_epochs=interval_epochs, interval_iters=interval_iters,
                                num_samples=num_samples, scale=scale).items():
            if value is not None and value < 1:
                raise ValueError(f'{type(self).__name__}: {name} must be positive, got {value}')
        self.interval_epochs = interval_epochs
        self.interval_iters = interval_iters
        self.num_samples = num_samples
        self.out_dir = out_dir
        self.seed = seed
        self.scale = scale
        self._batch: Optional[dict] = None
        self._last_name: Optional[str] = None

    @master_only
    def before_train(self, runner) -> None:
        loader = runner.val_loop.dataloader if runner.val_loop is not None else runner.train_dataloader
        self._batch = first_samples(loader, self.num_samples, self.seed)

    def after_train_epoch(self, runner) -> None:
        if not isinstance(runner.train_loop, IterBasedTrainLoop) and \
                self.every_n_epochs(runner, self.interval_epochs):
            self.draw(runner, f'epoch_{runner.epoch + 1}')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.interval_iters is not None and self.every_n_train_iters(runner, self.interval_iters):
            self.draw(runner, f'iter_{runner.iter + 1}')

    def after_train(self, runner) -> None:
        by_iter = isinstance(runner.train_loop, IterBasedTrainLoop) or self.interval_iters is not None
        self.draw(runner, f'iter_{runner.iter}' if by_iter else f'epoch_{runner.epoch}')

    @master_only
    def draw(self, runner, name: str) -> Optional[Path]:
        """Write ``<work_dir>/<out_dir>/<name>.png`` unless the last picture had that name.

        Returns:
            The path written, or None.
        """
        if name == self._last_name:
            return None
        if self._batch is None:
            raise RuntimeError(f'{type(self).__name__}: no batch to draw; it is taken in before_train')
        model = unwrap(runner.model)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                columns = self.panels(model, self._batch)
        finally:
            model.train(was_training)
        rows = [[upscale(panel, self.scale) for panel in row] for row in zip(*columns.values())]
        titles = [colorbar_strip(title, panel.shape[1]) if title == SIMILARITY_TITLE else
                  text_strip([(title, BLACK)], panel.shape[1]) for title, panel in zip(columns, rows[0])]
        self._last_name = name
        return save_rgb(compose([titles] + rows), Path(runner.work_dir) / self.out_dir / f'{name}.png')

    def panels(self, model: nn.Module, data_batch: dict) -> Dict[str, List[np.ndarray]]:
        """Per column title, the panels (H, W, 3) uint8 of each sample of ``data_batch``.

        Raises:
            TypeError: ``model`` is neither :class:`LMIM` nor :class:`TextMAE` (or MMS).
        """
        from lmim_mm.models.selfsup import LMIM, TextMAE
        if not isinstance(model, (LMIM, TextMAE)):
            raise TypeError(f'{type(self).__name__} draws LMIM, TextMAE and MMS models, got {type(model).__name__}')
        preprocessor = model.data_preprocessor
        views = as_views(preprocessor(data_batch, False)['inputs'], 2 if isinstance(model, LMIM) else 1)
        generator = torch.Generator(device=views[0].device).manual_seed(self.seed)
        patch, grid = patch_grid(model.backbone)
        if isinstance(model, LMIM):
            mask, cosine = lmim_similarity(model, views[0], views[1], generator)
        else:
            mask, recon = mae_reconstruction(model, views[0], generator)
        mask = mask.view(-1, *grid).cpu().numpy()
        inputs = [tensor_to_rgb(img, preprocessor, normalised=True) for img in views[0]]
        columns = {'input': inputs,
                   'mask': [grey_out(img, token_to_pixel_mask(m, patch)) for img, m in zip(inputs, mask)]}
        if isinstance(model, LMIM):
            cosine = cosine.view(-1, *grid).cpu().numpy()
            columns[SIMILARITY_TITLE] = [heatmap(c, m, patch) for c, m in zip(cosine, mask)]
            columns['guidance view'] = [tensor_to_rgb(img, preprocessor, normalised=True) for img in views[1]]
        else:
            columns['reconstruction'] = [tensor_to_rgb(img, preprocessor, normalised=True) for img in recon]
        return columns


class RecognitionSample(NamedTuple):
    """What :class:`RecognitionSamplesHook` keeps of one evaluated word."""
    image: np.ndarray
    pred: str
    score: float
    gt: str


def mean_score(score: Union[Sequence[float], torch.Tensor]) -> float:
    """Mean of per-character scores (mmocr's word score); 0 for an empty prediction."""
    score = torch.as_tensor(score, dtype=torch.float64).flatten()
    return float(score.mean()) if score.numel() else 0.0


@register('HOOKS')
class RecognitionSamplesHook(Hook):
    """Save a grid of the first evaluated words with their predictions, per validation / test run.

    The images are the dataloader's raw inputs (uint8 BGR, before the data preprocessor). Each cell
    shows the image letterboxed into ``cell_size`` and two lines: ``pred (mean char score)`` and
    ``gt: ...``, green when the word is right by copies of the loop's evaluator metrics
    (:meth:`~lmim_mm.evaluation.TextScorer.from_evaluator`: ``word_acc_ignore_case_symbol`` of mmocr's
    ``WordMetric``, ``sentence_acc`` of ``ChineseRecogMetric``), red otherwise.
    Written on the main process (its shard of the data) to
    ``<work_dir>/<out_dir>/samples_{val|test}_{epoch_<k>|iter_<k>}.png`` during training (by the
    loop type) and ``samples_{val|test}.png`` in evaluation-only runs.

    Args:
        num_samples: Words per picture.
        out_dir: Folder under ``runner.work_dir``.
        num_cols: Cells per row.
        cell_size: ``(H, W)`` of the image area of a cell.
    """

    def __init__(self, num_samples: int = 24, out_dir: str = 'vis', num_cols: int = 4,
                 cell_size: Tuple[int, int] = (64, 256)) -> None:
        if num_samples < 1 or num_cols < 1:
            raise ValueError(f'{type(self).__name__}: num_samples and num_cols must be positive, got '
                             f'{num_samples} and {num_cols}')
        self.num_samples = num_samples
        self.out_dir = out_dir
        self.num_cols = num_cols
        self.cell_size = tuple(cell_size)
        self._samples: List[RecognitionSample] = []

    def before_val_epoch(self, runner) -> None:
        self._samples = []

    def before_test_epoch(self, runner) -> None:
        self._samples = []

    @master_only
    def after_val_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        self.collect(data_batch, outputs)

    @master_only
    def after_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        self.collect(data_batch, outputs)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self.save(runner, 'val')

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self.save(runner, 'test')

    def collect(self, data_batch: dict, outputs: Sequence) -> None:
        """Keep image, prediction, score and ground truth until ``num_samples`` are held.

        Args:
            data_batch: The dataloader batch; ``inputs`` are uint8 (C, H, W) BGR images.
            outputs: ``TextRecogDataSample`` per image with ``pred_text`` and ``gt_text``.
        """
        for img, sample in zip(data_batch['inputs'], outputs):
            if len(self._samples) >= self.num_samples:
                return
            self._samples.append(RecognitionSample(to_rgb_uint8(img.cpu().numpy(), bgr=True), sample.pred_text.item,
                                                   mean_score(sample.pred_text.score), sample.gt_text.item))

    @master_only
    def save(self, runner, phase: str) -> Optional[Path]:
        """Write the grid of the collected samples (nothing if none were collected).

        Returns:
            The path written, or None.
        """
        if not self._samples:
            return None
        scorer = TextScorer.from_evaluator(getattr(runner, f'{phase}_loop').evaluator)
        right = scorer.correct([s.pred for s in self._samples], [s.gt for s in self._samples])
        cells = []
        for s, ok in zip(self._samples, right):
            colour = GREEN if ok else RED
            cells.append(captioned(s.image, [(f'{s.pred}  ({s.score:.2f})', colour), (f'gt: {s.gt}', colour)],
                                   self.cell_size))
        rows = [cells[i:i + self.num_cols] for i in range(0, len(cells), self.num_cols)]
        return save_rgb(compose(rows), Path(runner.work_dir) / self.out_dir / f'samples_{phase}{_progress(runner)}.png')


def _progress(runner) -> str:
    """``'_epoch_<k>'`` / ``'_iter_<k>'`` during training (by loop type), ``''`` without a train loop."""
    loop = runner._train_loop  # the property would build a loop in evaluation-only runs
    if loop is None or isinstance(loop, dict):
        return ''
    return f'_iter_{runner.iter}' if isinstance(loop, IterBasedTrainLoop) else f'_epoch_{runner.epoch}'
