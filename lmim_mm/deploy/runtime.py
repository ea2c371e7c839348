"""onnxruntime recognizer: the exported encoder and decoder step, greedy and beam-search decoding step for step as
:mod:`lmim_mm.models.layers.text_decoding` (same stopping rule, beam bookkeeping and float32 scores). The graphs
(written by ``tools/deployment/pytorch2onnx.py``):

- ``encoder.onnx``: ``images`` (N, 3, H, W) -> ``memory_keys`` (L, N, heads, S, d_k) and ``memory_values``
  (L, N, heads, S, d_v): every decoder layer's cross-attention keys/values;
- ``decoder_step.onnx``: ``tokens`` (B,), the memory keys/values, ``past_keys`` / ``past_values`` (L, B, heads, T, d)
  -> ``logits`` (B, C) of the next token and ``present_keys`` / ``present_values`` (L, B, heads, T + 1, d).
  B = N x beams: the rows of one image come together and share its memory."""
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import onnxruntime as ort

from .preprocess import read_image, to_input
from .settings import DECODER_FILE, ENCODER_FILE, METADATA_KEY, DeploySettings


class KV(NamedTuple):
    """Every layer's attention keys (L, rows, heads, length, d_k) and values (L, rows, heads, length, d_v): the memory
    of N images (cross-attention) or the cache of B sequences' decoded steps (self-attention)."""

    keys: np.ndarray
    values: np.ndarray


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, float32."""
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis, float32."""
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _session(path: Path, threads: Optional[int]) -> Tuple[ort.InferenceSession, DeploySettings]:
    """A CPU session on the graph ``path`` and the settings in its metadata."""
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: export a recognizer with tools/deployment/pytorch2onnx.py')
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    metadata = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in metadata:
        raise ValueError(f'{path} has no {METADATA_KEY!r} metadata: not an lmim_mm export')
    return session, DeploySettings.from_json(metadata[METADATA_KEY], source=str(path))


class ONNXRecognizer:
    """The exported recognizer in ``model_dir`` (``encoder.onnx`` and ``decoder_step.onnx``) on onnxruntime (CPU), with
    ``threads`` intra-op threads per session (None: onnxruntime's default, the physical cores).

    Raises:
        FileNotFoundError: a graph is missing.
        ValueError: a graph lacks the settings, or the two graphs carry different settings.
    """

    def __init__(self, model_dir: Union[str, Path], threads: Optional[int] = None) -> None:
        model_dir = Path(model_dir)
        self.encoder, self.settings = _session(model_dir / ENCODER_FILE, threads)
        self.decoder, decoder_settings = _session(model_dir / DECODER_FILE, threads)
        if decoder_settings != self.settings:
            raise ValueError(f'{model_dir}: {ENCODER_FILE} and {DECODER_FILE} come from different exports')

    def encode(self, images: np.ndarray) -> KV:
        """Normalised images (N, 3, H, W) -> :class:`KV`."""
        return KV(*self.encoder.run(['memory_keys', 'memory_values'], {'images': images}))

    def empty_cache(self, rows: int) -> KV:
        """A cache of zero steps for ``rows`` sequences."""
        shapes = {i.name: i.shape for i in self.decoder.get_inputs()}  # (L, B, heads, T, d)
        return KV(*[np.zeros((shapes[name][0], rows, shapes[name][2], 0, shapes[name][4]), np.float32)
                    for name in ('past_keys', 'past_values')])

    def step(self, tokens: np.ndarray, memory: KV, cache: KV) -> Tuple[np.ndarray, KV]:
        """One decoding step of the latest tokens, int64 (B,) (B a multiple of the memory's N), with the
        previous steps' ``cache``: logits of the next token (B, C) and the cache with this step appended."""
        logits, keys, values = self.decoder.run(['logits', 'present_keys', 'present_values'], dict(
            tokens=tokens, memory_keys=memory.keys, memory_values=memory.values, past_keys=cache.keys,
            past_values=cache.values))
        return logits, KV(keys, values)

    def decode(self, images: np.ndarray, beam_width: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Token ids (N, T) and the probability of each (N, T): :meth:`decode_with_probs` without the third."""
        return self.decode_with_probs(images, beam_width)[:2]

    def decode_with_probs(self, images: np.ndarray,
                          beam_width: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Greedy decoding (``beam_width`` 0 or 1) or beam search (more; None: the export's default) on normalised
        ``images`` (N, 3, H, W) float32 (:func:`~lmim_mm.deploy.preprocess.to_input`).

        Returns:
            Token ids (N, T), the probability of each (N, T) and the class probabilities (N, T, C) as the PyTorch
            decoder returns them: greedy decoding's distribution of each step; for beam search, the chosen token's
            probability at its class and zeros elsewhere.
        """
        width = self.settings.beam_width if beam_width is None else beam_width
        memory = self.encode(images)
        steps, eos = self.settings.max_seq_len, self.settings.end_idx
        if width <= 1:
            ids, probs = greedy_decode(self, memory, steps, eos)
            return ids, np.take_along_axis(probs, ids[..., None], 2)[..., 0], probs
        ids, token_probs, _ = beam_search(self, memory, steps, eos, width)
        probs = np.zeros((*ids.shape, self.settings.num_classes), np.float32)
        np.put_along_axis(probs, ids[..., None], token_probs[..., None], 2)
        return ids, token_probs, probs

    def read(self, images: Sequence[np.ndarray], beam_width: Optional[int] = None) -> List[Tuple[str, float]]:
        """Words and confidences of RGB images (uint8 (h, w, 3), any sizes), as mmocr's postprocessor gives them."""
        ids, token_probs = self.decode(to_input(images, self.settings), beam_width)
        return postprocess(ids, token_probs, self.settings)

    def read_files(self, paths: Sequence[Union[str, Path]], batch_size: int = 64,
                   beam_width: Optional[int] = None) -> List[Tuple[str, float]]:
        """:meth:`read` on image files, ``batch_size`` at a time."""
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        out = []
        for start in range(0, len(paths), batch_size):
            out += self.read([read_image(p) for p in paths[start:start + batch_size]], beam_width)
        return out


def greedy_decode(model: ONNXRecognizer, memory: KV, max_len: int, eos_idx: int) -> Tuple[np.ndarray, np.ndarray]:
    """:func:`lmim_mm.models.layers.text_decoding.greedy_decode` (see there for the arguments) in numpy, on the
    recognizer ``model`` and the ``memory`` of N images: ids int64 (N, T), class probabilities float32 (N, T, C)."""
    n = memory.keys.shape[1]
    cache = model.empty_cache(n)
    tokens = np.full(n, model.settings.bos_idx, dtype=np.int64)
    ended = np.zeros(n, dtype=bool)
    ids, probs = [], []
    for _ in range(max_len):
        logits, cache = model.step(tokens, memory, cache)
        step_probs = softmax(logits)
        tokens = step_probs.argmax(-1)
        ids.append(tokens)
        probs.append(step_probs)
        ended |= tokens == eos_idx
        if ended.all():
            break
    return np.stack(ids, 1), np.stack(probs, 1)


def beam_search(model: ONNXRecognizer, memory: KV, max_len: int, eos_idx: int,
                beam_width: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`lmim_mm.models.layers.text_decoding.beam_search` (see there for the arguments and the scoring) in numpy,
    on the recognizer ``model`` and the ``memory`` of N images: ids (N, T) of the best beam, the probability of each
    of its tokens (N, T) (1 after its EOS) and its log-probability (N,)."""
    classes = model.settings.num_classes
    if not 1 <= beam_width <= classes:
        raise ValueError(f'beam_width must be in [1, {classes}], got {beam_width}')
    n = memory.keys.shape[1]
    first_beam = np.arange(n) * beam_width  # (N,) row of each image's beam 0
    scores = np.full((n, beam_width), -np.inf, dtype=np.float32)
    scores[:, 0] = 0  # only beam 0 is alive at the start
    tokens = np.full(n * beam_width, model.settings.bos_idx, dtype=np.int64)
    finished = np.zeros(n * beam_width, dtype=bool)
    ids = np.zeros((n * beam_width, 0), dtype=np.int64)
    token_probs = np.zeros((n * beam_width, 0), dtype=np.float32)
    after_end = np.full(classes, -np.inf, dtype=np.float32)
    after_end[eos_idx] = 0
    cache = model.empty_cache(n * beam_width)
    for _ in range(max_len):
        logits, cache = model.step(tokens, memory, cache)
        log_probs = np.where(finished[:, None], after_end, log_softmax(logits))
        candidates = (scores.reshape(-1, 1) + log_probs).reshape(n, beam_width * classes)
        flat = np.argsort(-candidates, axis=1, kind='stable')[:, :beam_width]
        scores = np.take_along_axis(candidates, flat, 1)
        parents = (first_beam[:, None] + flat // classes).reshape(-1)
        tokens = (flat % classes).reshape(-1)
        cache = KV(cache.keys[:, parents], cache.values[:, parents])
        ids = np.concatenate([ids[parents], tokens[:, None]], 1)
        token_probs = np.concatenate([token_probs[parents], np.exp(log_probs[parents, tokens])[:, None]], 1)
        finished = finished[parents] | (tokens == eos_idx)
        if finished[first_beam].all():
            break
    return ids[first_beam], token_probs[first_beam], scores[:, 0]


def postprocess(ids: np.ndarray, token_probs: np.ndarray, settings: DeploySettings) -> List[Tuple[str, float]]:
    """``(word, confidence)`` per row of token ids (N, T) with their probabilities (N, T), as mmocr's
    ``AttentionPostprocessor`` makes them: each row read up to its first EOS, skipping ``ignore_indexes``;
    the mean probability of the kept tokens (NaN for an empty word, as mmocr's inferencer prints it)."""
    ignore = set(settings.ignore_indexes)
    out = []
    for row, probs in zip(ids.tolist(), token_probs.tolist()):
        kept = []
        for index, prob in zip(row, probs):
            if index in ignore:
                continue
            if index == settings.end_idx:
                break
            kept.append((index, prob))
        word = ''.join(settings.classes[i] for i, _ in kept)
        out.append((word, float(np.mean([p for _, p in kept])) if kept else float('nan')))
    return out
