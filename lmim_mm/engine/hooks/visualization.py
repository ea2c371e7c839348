"""Pictures of runs, sent to the runner's visualizer: masked reconstructions while pretraining, recognised words
when evaluating. Images are loaded BGR (as by mmcv); the data preprocessor tells how model inputs relate to them."""
import itertools
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop, set_random_seed
from mmocr.registry import HOOKS as MMOCR_HOOKS
from mmpretrain.registry import HOOKS as MMPRETRAIN_HOOKS
from torch.utils.data import DataLoader

from lmim_mm.evaluation.scoring import TextScorer
from lmim_mm.visualization import colorbar_strip, compose, grey_out, heatmap, text_strip, to_rgb_uint8, upscale
from lmim_mm.visualization.images import BLACK
from .exact_resume import rng_state, set_rng_state

#: Title of LMIM's similarity column, drawn with a colour bar from -1 to 1.
SIMILARITY_TITLE = 'cos(pred, target)'


def tensor_to_rgb(img: torch.Tensor, preprocessor: nn.Module, normalised: bool) -> np.ndarray:
    """One image (C, H, W) as RGB uint8 (H, W, 3): a raw dataloader image (uint8 BGR) or, with
    ``normalised``, one made by ``preprocessor`` (an mmengine ``ImgDataPreprocessor``)."""
    mean = std = None
    converted = normalised and bool(getattr(preprocessor, '_channel_conversion', False))
    if normalised and getattr(preprocessor, '_enable_normalize', False):
        mean, std = preprocessor.mean.flatten().cpu().numpy(), preprocessor.std.flatten().cpu().numpy()
    return to_rgb_uint8(img.detach().float().cpu().numpy(), mean, std, bgr=not converted)


def token_grid(mask: torch.Tensor, image_size: Tuple[int, int]) -> Tuple[np.ndarray, int]:
    """A mask (L,) of square patches of an image ``(H, W)`` as a token grid (h, w) bool and the patch side."""
    patch = math.isqrt(image_size[0] * image_size[1] // mask.numel())
    return mask.view(image_size[0] // patch, image_size[1] // patch).cpu().numpy(), patch


def first_samples(loader: DataLoader, num_samples: int, seed: int) -> dict:
    """The first ``num_samples`` samples (``None``: skipped, passed over) of ``loader.dataset``, collated, drawn with
    the global RNGs seeded by ``seed`` (the same every run), restored afterwards; a ``ValueError`` if there is none."""
    dataset, state = loader.dataset, rng_state()
    try:
        set_random_seed(seed)
        drawn = (dataset[index] for index in range(len(dataset)))
        samples = list(itertools.islice((sample for sample in drawn if sample is not None), num_samples))
    finally:
        set_rng_state(state)
    if not samples:
        raise ValueError(f'{type(dataset).__name__} of {len(dataset)} items yields no sample to visualise')
    return loader.collate_fn(samples)


@MMPRETRAIN_HOOKS.register_module()
class PretrainVisualizationHook(Hook):
    """Send masked-image-modelling pictures of a fixed batch (:func:`first_samples` of the validation set, else the
    training set, drawn with ``seed``) to ``runner.visualizer.add_image`` while pretraining: after every
    ``interval_epochs`` epochs (epoch-based loops), every ``interval_iters`` iterations (None: never) and at the end of
    training, the model's ``val_step`` runs on it in eval mode and the main process sends the picture ``epoch`` /
    ``iter`` at step ``k`` (``LocalVisBackend``: ``<work_dir>/<timestamp>/vis_data/vis_image/{epoch|iter}_<k>.png``):
    titles, then ``num_samples`` rows of panels enlarged ``scale`` times: the input, its mask (masked patches greyed)
    and ``pred_image`` (TextMAE / MMS) or ``pred_similarity`` (LMIM: cosine of prediction and target on the masked
    tokens, -1 to 1) and the guidance view."""

    def __init__(self, interval_epochs: int = 1, interval_iters: Optional[int] = None, num_samples: int = 8,
                 seed: int = 0, scale: int = 2) -> None:
        for name, value in dict(interval_epochs=interval_epochs, interval_iters=interval_iters,
                                num_samples=num_samples, scale=scale).items():
            if value is not None and value < 1:
                raise ValueError(f'{type(self).__name__}: {name} must be positive, got {value}')
        self.interval_epochs = interval_epochs
        self.interval_iters = interval_iters
        self.num_samples = num_samples
        self.seed = seed
        self.scale = scale
        self._batch: Optional[dict] = None
        self._last_sent: Optional[Tuple[str, int]] = None

    @master_only
    def before_train(self, runner) -> None:
        loader = runner.val_loop.dataloader if runner.val_loop is not None else runner.train_dataloader
        self._batch = first_samples(loader, self.num_samples, self.seed)

    def after_train_epoch(self, runner) -> None:
        if not isinstance(runner.train_loop, IterBasedTrainLoop) and self.every_n_epochs(runner, self.interval_epochs):
            self.draw(runner, 'epoch', runner.epoch + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.interval_iters is not None and self.every_n_train_iters(runner, self.interval_iters):
            self.draw(runner, 'iter', runner.iter + 1)

    def after_train(self, runner) -> None:
        by_iter = isinstance(runner.train_loop, IterBasedTrainLoop) or self.interval_iters is not None
        self.draw(runner, 'iter' if by_iter else 'epoch', runner.iter if by_iter else runner.epoch)

    @master_only
    def draw(self, runner, kind: str, step: int) -> None:
        """Send the picture ``kind`` (``'epoch'`` or ``'iter'``) at ``step`` unless it was the last one sent."""
        if (kind, step) == self._last_sent:
            return
        if self._batch is None:
            raise RuntimeError(f'{type(self).__name__}: no batch to draw; it is taken in before_train')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        columns = self.panels(model, self._batch)
        rows = [[upscale(panel, self.scale) for panel in row] for row in zip(*columns.values())]
        titles = [colorbar_strip(title, panel.shape[1]) if title == SIMILARITY_TITLE else
                  text_strip([(title, BLACK)], panel.shape[1]) for title, panel in zip(columns, rows[0])]
        self._last_sent = (kind, step)
        runner.visualizer.add_image(kind, compose([titles] + rows), step=step)

    def panels(self, model: nn.Module, data_batch: dict) -> Dict[str, List[np.ndarray]]:
        """Per column title, the panels (H, W, 3) uint8 of each sample of ``data_batch`` (a ``TypeError`` if the
        model's ``'predict'`` gives neither ``pred_image`` nor ``pred_similarity``)."""
        was_training = model.training
        model.eval()
        try:
            samples = model.val_step(data_batch)
        finally:
            model.train(was_training)
        if not {'pred_image', 'pred_similarity'} & set(samples[0].keys()):
            raise TypeError(f'{type(self).__name__}: the predictions of {type(model).__name__} hold no pred_image '
                            'or pred_similarity to draw')
        preprocessor = model.data_preprocessor
        views = preprocessor(data_batch, False)['inputs']
        views = [views] if isinstance(views, torch.Tensor) else views
        inputs = [tensor_to_rgb(img, preprocessor, normalised=True) for img in views[0]]
        masks = [token_grid(sample.mask, img.shape[:2]) for sample, img in zip(samples, inputs)]
        columns = {'input': inputs, 'mask': [grey_out(img, upscale(m, p)) for img, (m, p) in zip(inputs, masks)]}
        if 'pred_image' in samples[0]:
            columns['reconstruction'] = [tensor_to_rgb(s.pred_image, preprocessor, normalised=True) for s in samples]
        else:
            columns[SIMILARITY_TITLE] = [heatmap(s.pred_similarity.view(m.shape).cpu().numpy(), m, p)
                                         for s, (m, p) in zip(samples, masks)]
            columns['guidance view'] = [tensor_to_rgb(img, preprocessor, normalised=True) for img in views[1]]
        return columns


@MMOCR_HOOKS.register_module()
class RecognitionSamplesHook(Hook):
    """Send the first ``num_samples`` words of each validation / test run to ``runner.visualizer.add_datasample``
    (every backend), word ``i`` as ``{val|test}_sample_<i>`` at the training loop's epoch / iteration (0 in
    evaluation-only runs): its input image (uint8 BGR, sent as RGB) and data sample, marked right or wrong
    (``pred_text.correct``) by the loop's evaluator metrics (:meth:`~lmim_mm.evaluation.TextScorer.from_evaluator`)."""

    def __init__(self, num_samples: int = 24) -> None:
        if num_samples < 1:
            raise ValueError(f'{type(self).__name__}: num_samples must be positive, got {num_samples}')
        self.num_samples = num_samples
        self._by_epoch: Optional[bool] = None  # the training loop's kind; None in evaluation-only runs
        self._scorer: Optional[TextScorer] = None
        self._sent = 0

    def before_train(self, runner) -> None:
        self._by_epoch = not isinstance(runner.train_loop, IterBasedTrainLoop)

    def before_val_epoch(self, runner) -> None:
        self._sent = 0

    before_test_epoch = before_val_epoch

    def after_val_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        self.send(runner, 'val', data_batch, outputs)

    def after_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        self.send(runner, 'test', data_batch, outputs)

    @master_only
    def send(self, runner, phase: str, data_batch: dict, outputs: Sequence) -> None:
        """Mark the batch's words right or wrong and send them until ``num_samples`` are sent in this run."""
        words = list(zip(data_batch['inputs'], outputs))[:self.num_samples - self._sent]
        if not words:
            return
        if self._sent == 0:
            self._scorer = TextScorer.from_evaluator(getattr(runner, f'{phase}_loop').evaluator)
        right = self._scorer.correct([s.pred_text.item for _, s in words], [s.gt_text.item for _, s in words])
        step = 0 if self._by_epoch is None else runner.epoch if self._by_epoch else runner.iter
        for (img, sample), correct in zip(words, right):
            marked = sample.clone()  # shallow: its own pred_text is marked
            marked.pred_text = sample.pred_text.clone()
            marked.pred_text.correct = correct
            runner.visualizer.add_datasample(f'{phase}_sample_{self._sent:0{len(str(self.num_samples - 1))}d}',
                                             to_rgb_uint8(img.cpu().numpy(), bgr=True), marked, step=step)
            self._sent += 1
