"""Read word images with a trained recognizer, PyTorch or ONNX, through one interface (:func:`build_word_reader`;
used by ``tools/infer.py`` and ``tools/webui.py``)."""
import os.path as osp
import sys
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from mmocr.apis import TextRecInferencer
from tqdm import tqdm

from lmim_mm.datasets.image_io import read_image
from lmim_mm.deploy import ONNXRecognizer, postprocess, to_input
from lmim_mm.evaluation import TextScorer
from lmim_mm.utils import register_all_modules
from lmim_mm.utils.checkpoint import check_state_dict, checkpoint_uri, load_state_dict_file


def read_image_file(path: str) -> np.ndarray:
    """An image file decoded as in training and testing, BGR (H, W, 3) uint8; ``ImageDecodeError`` naming the file
    and the reason for an empty, undecodable, truncated or too large one."""
    return read_image(Path(path).read_bytes(), path)


class Vocabulary(NamedTuple):
    """What reading the decoder's classes needs: mmocr ``Dictionary.dict`` (characters, then the special
    tokens), the end token's class and the classes the postprocessor skips (``ignore_chars``, padding)."""

    classes: Tuple[str, ...]
    end_idx: int
    ignore_indexes: Tuple[int, ...]


def decoding_steps(probs: np.ndarray, vocabulary: Vocabulary, top_k: int = 3) -> List[dict]:
    """The steps of one decoded word, read as mmocr's ``AttentionPostprocessor`` reads its word.

    Args:
        probs: Class probabilities of each step (T, C), as the decoder gives them to the postprocessor.
        vocabulary: The decoder's classes.
        top_k: Alternatives listed per step.

    Returns:
        Per kept step ``{"char", "prob", "end", "top": [{"char", "prob"}, ...]}``: the most probable class, whether
        it is the end token, and the ``top_k`` most probable classes; ignored classes (padding) are skipped, and the
        end step is the last.
    """
    ignore = set(vocabulary.ignore_indexes)
    order = np.argsort(-probs, axis=-1, kind='stable')[:, :top_k]
    steps = []
    for step_probs, ranked in zip(probs.tolist(), order.tolist()):
        index = ranked[0]
        if index in ignore:
            continue
        steps.append(dict(char=vocabulary.classes[index], prob=step_probs[index], end=index == vocabulary.end_idx,
                          top=[dict(char=vocabulary.classes[i], prob=step_probs[i]) for i in ranked]))
        if index == vocabulary.end_idx:
            break
    return steps


class WordReader:
    """Reads word images as mmocr predicts them (the word and the mean probability of its characters) and, on
    request, the decoding steps; subclasses supply :meth:`_predict`, ``vocabulary`` (the decoder's classes) and
    ``scorer`` (the recognizer's test metrics: the config's, the export's, else its dictionary's)."""

    vocabulary: Vocabulary
    scorer: TextScorer

    def _predict(self, images: List[np.ndarray], batch_size: int) -> List[dict]:
        """``{"text", "scores", "probs"}`` per image; ``probs``: the decoder's class probabilities (T, C)."""
        raise NotImplementedError

    def read(self, images: Sequence[np.ndarray], batch_size: int = 64, top_k: int = 0) -> List[dict]:
        """Read words.

        Args:
            images: BGR uint8 (h, w, 3) images of any sizes (:func:`read_image_file`).
            batch_size: Images recognized at once.
            top_k: 0: words only; more: also the decoding steps (:func:`decoding_steps`) with this many alternatives.

        Returns:
            Per image ``{"text", "scores"}`` (the word and its confidence), plus ``"steps"`` when ``top_k`` > 0.
        """
        predictions = self._predict(list(images), batch_size)
        for prediction in predictions:
            probs = prediction.pop('probs')
            if top_k > 0:
                prediction['steps'] = decoding_steps(probs, self.vocabulary, top_k)
        return predictions

    def read_inputs(self, inputs: Sequence[Union[str, Path, Tuple[str, bytes]]], batch_size: int = 64, top_k: int = 0,
                    strict: bool = False, progress: bool = False) -> List[dict]:
        """Decode and read image files or uploads a batch at a time, going on past the ones that cannot be read: per
        input, in order, its :meth:`read` result or ``{"error": <the reason, naming the image>}``.

        Args:
            inputs: Image files, or ``(name, encoded bytes)`` pairs.
            batch_size, top_k: As in :meth:`read` (images are decoded ``batch_size`` at a time too).
            strict: Re-raise the first decoding error instead of going on.
            progress: A progress bar on stderr, with each decoding error printed above it.
        """
        results = []
        with tqdm(total=len(inputs), desc='reading', unit='img', file=sys.stderr, disable=not progress) as bar:
            for start in range(0, len(inputs), batch_size):
                batch, images, errors = inputs[start:start + batch_size], [], {}
                for index, item in enumerate(batch):
                    try:
                        is_upload = isinstance(item, tuple)  # (name, encoded bytes)
                        images.append(read_image(item[1], item[0]) if is_upload else read_image_file(item))
                    except (OSError, ValueError) as err:
                        if strict:
                            raise
                        errors[index] = str(err)
                        if progress:
                            bar.write(f'cannot read {err}', file=sys.stderr)
                predictions = iter(self.read(images, batch_size, top_k) if images else [])
                results += [dict(error=errors[i]) if i in errors else next(predictions) for i in range(len(batch))]
                bar.update(len(batch))
        return results


class TorchWordReader(WordReader):
    """mmocr's ``TextRecInferencer`` on a recognizer ``config`` file and a ``checkpoint`` that must fit the model
    exactly, on ``device`` (cpu / cuda; None: cuda when available).

    Raises:
        FileNotFoundError: the config or the checkpoint does not exist.
        KeyError / ValueError: the checkpoint does not fit the model (missing, unexpected or misshapen keys).
    """

    def __init__(self, config: str, checkpoint: str, device: Optional[str] = None) -> None:
        register_all_modules(init_default_scope=False)
        for name in (config, checkpoint):
            if not osp.isfile(name):
                raise FileNotFoundError(f'not found: {name}')
        self.inferencer = TextRecInferencer(model=config, weights=checkpoint_uri(checkpoint), device=device)
        # mmocr loads weights leniently (a log warning); refuse a checkpoint that does not fit, as test.py does
        check_state_dict(self.inferencer.model, load_state_dict_file(checkpoint), source=checkpoint)
        decoder = self.inferencer.model.decoder
        self.vocabulary = Vocabulary(tuple(decoder.dictionary.dict), decoder.dictionary.end_idx,
                                     tuple(decoder.postprocessor.ignore_indexes))
        self.scorer = TextScorer.from_config(self.inferencer.cfg)

    def _predict(self, images: List[np.ndarray], batch_size: int) -> List[dict]:
        probs = []  # the decoder's output, batch by batch, as the postprocessor reads it
        hook = self.inferencer.model.decoder.register_forward_hook(
            lambda module, args, output: probs.extend(output.detach().float().cpu().numpy()))
        try:
            predictions = self.inferencer(images, batch_size=batch_size, progress_bar=False)['predictions']
        finally:
            hook.remove()
        return [dict(prediction, probs=p) for prediction, p in zip(predictions, probs)]


class ONNXWordReader(WordReader):
    """The export folder ``export_dir`` of ``tools/deployment/pytorch2onnx.py`` on onnxruntime with ``threads`` intra-op
    threads (None: its default); settings and test metrics from the export."""

    def __init__(self, export_dir: str, threads: Optional[int] = None) -> None:
        self.recognizer = ONNXRecognizer(export_dir, threads)
        self.settings = settings = self.recognizer.settings
        self.vocabulary = Vocabulary(settings.classes, settings.end_idx, settings.ignore_indexes)
        self.scorer = TextScorer(settings.metrics) if settings.metrics else TextScorer.for_dictionary(settings.classes)

    def _predict(self, images: List[np.ndarray], batch_size: int) -> List[dict]:
        predictions = []
        for start in range(0, len(images), batch_size):
            rgb = [image[..., ::-1] for image in images[start:start + batch_size]]  # the export reads RGB
            ids, token_probs, probs = self.recognizer.decode_with_probs(to_input(rgb, self.settings))
            predictions += [dict(text=text, scores=score, probs=p)
                            for (text, score), p in zip(postprocess(ids, token_probs, self.settings), probs)]
        return predictions


def build_word_reader(config: Optional[str] = None, checkpoint: Optional[str] = None, onnx: Optional[str] = None,
                      device: Optional[str] = None) -> WordReader:
    """A :class:`TorchWordReader` on ``config`` + ``checkpoint``, or an :class:`ONNXWordReader` on ``onnx`` (one of
    the two, else a ``ValueError``)."""
    if (onnx is None) == (config is None or checkpoint is None):
        raise ValueError('read with CONFIG and CHECKPOINT, or with an ONNX export folder (one of the two)')
    return ONNXWordReader(onnx) if onnx else TorchWordReader(config, checkpoint, device)
