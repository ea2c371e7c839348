"""ONNX export of the LMIM recognizer, checked on onnxruntime: the encoder and one KV-cached decoder step (inputs and
outputs listed in :mod:`lmim_mm.deploy.runtime`; batch, beams and past length dynamic; the settings in both graphs'
metadata), traced by PyTorch's TorchScript-based exporter (``dynamo=False``: no onnxscript, seconds for a ViT-S)."""
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from lmim_mm.deploy.runtime import ONNXRecognizer, postprocess
from lmim_mm.deploy.settings import DECODER_FILE, ENCODER_FILE, METADATA_KEY, DeploySettings
from lmim_mm.models.layers.text_decoder import KV, TransformerTextDecoder
from lmim_mm.models.layers.text_decoding import beam_search, greedy_decode
from lmim_mm.models.textrecog.decoders import ViTTransformerDecoder

#: ONNX opset (LayerNormalization is a single op from 17 on).
OPSET = 17


def encoder_memory(recognizer: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """What the decoder reads of normalised images (N, 3, H, W): the encoder's (or backbone's) tokens (N, S, D)."""
    feat = recognizer.extract_feat(images)
    return ViTTransformerDecoder._memory(feat, recognizer.encoder(feat) if recognizer.with_encoder else None)


class ConcatCache:
    """The :class:`~lmim_mm.models.layers.text_decoder.KVCache` interface over explicit past keys (L, B, H, T, d_k)
    and values (L, B, H, T, d_v): :meth:`append` concatenates the new step, so a traced graph takes any past length."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.past_keys, self.past_values = keys, values
        self.length = keys.shape[3]  # steps in the past (the position of the new token)
        self.keys: List[torch.Tensor] = []
        self.values: List[torch.Tensor] = []

    def append(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> KV:
        """Past + new keys/values (B, H, T + t, d) of ``layer``, also kept for the outputs."""
        self.keys.append(torch.cat([self.past_keys[layer], keys], 2))
        self.values.append(torch.cat([self.past_values[layer], values], 2))
        return self.keys[-1], self.values[-1]

    def advance(self, steps: int = 1) -> None:
        """Nothing to do: the length follows the past's."""


class EncoderGraph(nn.Module):
    """``encoder.onnx`` of an mmocr ``EncoderDecoderRecognizer`` with a :class:`ViTTransformerDecoder`."""

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Normalised images (N, 3, H, W) -> keys (L, N, heads, S, d_k) and values (L, N, heads, S, d_v)."""
        kv = self.recognizer.decoder.transformer.memory_kv(encoder_memory(self.recognizer, images))
        return torch.stack([k for k, _ in kv]), torch.stack([v for _, v in kv])


class DecoderStepGraph(nn.Module):
    """``decoder_step.onnx``: one cached step of a :class:`TransformerTextDecoder`, the cache as inputs and outputs."""

    def __init__(self, decoder: TransformerTextDecoder) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, tokens: torch.Tensor, memory_keys: torch.Tensor, memory_values: torch.Tensor,
                past_keys: torch.Tensor, past_values: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Args and returns as listed in :mod:`lmim_mm.deploy.runtime` (``decoder_step.onnx``)."""
        cache = ConcatCache(past_keys, past_values)
        memory_kv = list(zip(memory_keys.unbind(0), memory_values.unbind(0)))
        logits = self.decoder.step(tokens, memory_kv, cache)
        return logits, torch.stack(cache.keys), torch.stack(cache.values)


def deploy_settings(recognizer: nn.Module, metrics: Sequence[dict] = ()) -> DeploySettings:
    """The dictionary, decoding and input settings of an mmocr recognizer with a :class:`ViTTransformerDecoder` (else a
    ``TypeError``) and a normalising data preprocessor (else a ``ValueError``), carrying the JSON-serialisable test
    metric configs ``metrics`` (e.g. ``lmim_mm.evaluation.scoring.metric_configs`` of the config's ``test_evaluator``).
    """
    decoder = recognizer.decoder
    if not isinstance(decoder, ViTTransformerDecoder):
        raise TypeError(f'ONNX export supports ViTTransformerDecoder, got {type(decoder).__name__}')
    pre = recognizer.data_preprocessor
    if not getattr(pre, '_enable_normalize', False):
        raise ValueError('ONNX export needs a data preprocessor with mean and std (TextRecogDataPreprocessor)')
    return DeploySettings(
        classes=tuple(decoder.dictionary.dict), end_idx=decoder.dictionary.end_idx,
        bos_idx=decoder.transformer.bos_idx, ignore_indexes=tuple(decoder.postprocessor.ignore_indexes),
        max_seq_len=decoder.max_seq_len, beam_width=decoder.beam_width, img_size=tuple(recognizer.backbone.img_size),
        channel_order='rgb' if pre._channel_conversion else 'bgr',  # images are loaded BGR (OpenCV)
        mean=tuple(pre.mean.flatten().tolist()), std=tuple(pre.std.flatten().tolist()),
        metrics=tuple(dict(m) for m in metrics))


def _add_metadata(path: Path, settings: DeploySettings) -> None:
    """Store ``settings`` in the graph's metadata and run onnx's checker on it."""
    import onnx
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {METADATA_KEY: settings.to_json()})  # replaces any metadata
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def export_recognizer(recognizer: nn.Module, out_dir: Union[str, Path], images: torch.Tensor,
                      metrics: Sequence[dict] = ()) -> DeploySettings:
    """Write ``encoder.onnx`` and ``decoder_step.onnx`` of ``recognizer`` (an mmocr recognizer with a
    :class:`ViTTransformerDecoder`, on the CPU; put in eval mode), traced with the normalised ``images`` (N, 3, H, W),
    to ``out_dir`` (created), with the settings (``metrics`` as in :func:`deploy_settings`); return the settings."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = deploy_settings(recognizer, metrics)
    # in eval mode, the wrappers too: the exporter puts each module back into its mode afterwards
    encoder = EncoderGraph(recognizer.eval()).eval()
    step = DecoderStepGraph(recognizer.decoder.transformer).eval()
    with torch.no_grad(), warnings.catch_warnings():
        # the shape checks of the modules (image size, position table, rows per memory) hold for every
        # input of the graphs' dynamic axes; the tracer warns that it records them as constants
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        memory_keys, memory_values = encoder(images)
        layers, n, heads, _, d_k = memory_keys.shape
        rows = 2 * n  # two rows per image and one past step, so the traced graph is the general one
        tokens = torch.full((rows, ), settings.bos_idx, dtype=torch.long)
        past = (torch.zeros(layers, rows, heads, 1, d_k), torch.zeros(layers, rows, heads, 1, memory_values.shape[-1]))
        torch.onnx.export(
            encoder, (images, ), str(out_dir / ENCODER_FILE), dynamo=False, opset_version=OPSET,
            input_names=['images'], output_names=['memory_keys', 'memory_values'],
            dynamic_axes={'images': {0: 'batch'}, 'memory_keys': {1: 'batch'}, 'memory_values': {1: 'batch'}})
        torch.onnx.export(
            step, (tokens, memory_keys, memory_values, *past), str(out_dir / DECODER_FILE), dynamo=False,
            opset_version=OPSET,
            input_names=['tokens', 'memory_keys', 'memory_values', 'past_keys', 'past_values'],
            output_names=['logits', 'present_keys', 'present_values'],
            dynamic_axes={'tokens': {0: 'rows'}, 'memory_keys': {1: 'batch'}, 'memory_values': {1: 'batch'},
                          'past_keys': {1: 'rows', 3: 'past'}, 'past_values': {1: 'rows', 3: 'past'},
                          'logits': {0: 'rows'}, 'present_keys': {1: 'rows', 3: 'present'},
                          'present_values': {1: 'rows', 3: 'present'}})
    for name in (ENCODER_FILE, DECODER_FILE):
        _add_metadata(out_dir / name, settings)
    return settings


def quantize_export(src_dir: Union[str, Path], out_dir: Union[str, Path]) -> None:
    """Dynamic int8 quantisation (onnxruntime's ``quantize_dynamic``: int8 weights of MatMul/Gemm, activations
    quantised per call) of both graphs of the fp32 export ``src_dir``, settings kept, into ``out_dir`` (created; a
    ``ValueError`` if it is ``src_dir``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    if src_dir.resolve() == out_dir.resolve():
        raise ValueError(f'quantize_export writes to a new folder, got {out_dir} for both')
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = ONNXRecognizer(src_dir).settings
    for name in (ENCODER_FILE, DECODER_FILE):
        quantize_dynamic(str(src_dir / name), str(out_dir / name), weight_type=QuantType.QInt8)
        _add_metadata(out_dir / name, settings)


@torch.no_grad()
def compare_with_pytorch(recognizer: nn.Module, onnx_model: ONNXRecognizer, images: torch.Tensor,
                         beam_widths: Sequence[int] = (1, 5)) -> Dict[str, Optional[float]]:
    """Decode the same normalised images (N, 3, H, W) with the exported ``recognizer`` (eval mode) on PyTorch and its
    export ``onnx_model`` (or a quantised one) on onnxruntime, for each of ``beam_widths`` (1: greedy decoding).

    Returns:
        Per width ``w``: ``same_words_w``, the fraction of images read as the same word (mmocr's postprocessing),
        and ``max_prob_diff_w``, the largest difference of a per-step probability (every class for greedy decoding,
        the chosen tokens' for beam search) when all token ids are equal, else None.
    """
    settings = onnx_model.settings
    decoder, memory = recognizer.decoder.transformer, encoder_memory(recognizer, images)
    steps, eos = settings.max_seq_len, settings.end_idx
    out: Dict[str, Optional[float]] = {}
    for width in beam_widths:
        onnx_ids, onnx_token_probs, onnx_probs = onnx_model.decode_with_probs(images.numpy(), width)
        if width <= 1:
            ids, probs = greedy_decode(decoder, memory, steps, eos)
            token_probs = probs.gather(2, ids[..., None])[..., 0]
        else:
            ids, token_probs, _ = beam_search(decoder, memory, steps, eos, width)
            probs, onnx_probs = token_probs, onnx_token_probs
        ids, token_probs, probs = ids.numpy(), token_probs.numpy(), probs.numpy()
        words = [postprocess(*pair, settings) for pair in ((ids, token_probs), (onnx_ids, onnx_token_probs))]
        out[f'same_words_{width}'] = float(np.mean([a[0] == b[0] for a, b in zip(*words)]))
        same_ids = ids.shape == onnx_ids.shape and bool((ids == onnx_ids).all())
        out[f'max_prob_diff_{width}'] = float(np.abs(probs - onnx_probs).max()) if same_ids else None
    return out
