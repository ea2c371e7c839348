"""ONNX export of the recognizer: onnxruntime decodes real IIIT5K words exactly as PyTorch does."""
import shutil

import numpy as np
import onnx
import pytest
import torch

from benchmarks.tiny_recognizer import (
    TINY_CONFIG,
    VIT_S_CONFIG,
    build_recognizer,
    fit,
    labeled_batch,
    normalised_images,
)
from lmim_mm.apis.export import compare_with_pytorch, export_recognizer, quantize_export
from lmim_mm.deploy import ONNXRecognizer, postprocess
from lmim_mm.deploy.settings import DECODER_FILE, ENCODER_FILE, METADATA_KEY, DeploySettings

TOLERANCE = 1e-4


@pytest.fixture(scope='module')
def iiit5k(real_data_dir):
    return labeled_batch(real_data_dir / 'iiit5k_test', 8)


@pytest.fixture(scope='module')
def tiny(iiit5k, tmp_path_factory):
    """The demo's tiny recognizer fitted to 8 IIIT5K words (it ends them with EOS), and its export."""
    batch, _ = iiit5k
    model = build_recognizer(TINY_CONFIG)
    losses = fit(model, batch, steps=60, lr=2e-3)
    assert losses[-1] < losses[0] / 2, losses
    images = normalised_images(model, batch)
    out = tmp_path_factory.mktemp('tiny_export')
    export_recognizer(model, out, images[:2])
    return model, images, out


def assert_parity(report: dict) -> None:
    assert report['same_words_1'] == report['same_words_5'] == 1.0, report
    assert report['max_prob_diff_1'] <= TOLERANCE and report['max_prob_diff_5'] <= TOLERANCE, report


def test_random_vit_s_parity(iiit5k, tmp_path):
    """The paper's ViT-S/4 + 6-layer decoder with random weights: no word ends, all 25 steps compared."""
    torch.manual_seed(0)
    model = build_recognizer(VIT_S_CONFIG)
    images = normalised_images(model, iiit5k[0])[:3]
    export_recognizer(model, tmp_path, images[:2])
    assert not model.training  # the exporter leaves the model in eval mode
    onnx_model = ONNXRecognizer(tmp_path)
    assert onnx_model.decode(images.numpy(), beam_width=1)[0].shape == (3, 25)
    assert_parity(compare_with_pytorch(model, onnx_model, images, (1, 5)))


def test_tiny_trained_parity(tiny):
    model, images, out = tiny
    onnx_model = ONNXRecognizer(out)
    ids, _ = onnx_model.decode(images.numpy(), beam_width=1)
    eos = onnx_model.settings.end_idx
    assert (ids == eos).any(1).all() and ids.shape[1] < 25  # every word ends; decoding stopped early
    assert_parity(compare_with_pytorch(model, onnx_model, images, (1, 5)))


@pytest.mark.parametrize('beam_width', [0, 3])
def test_words_and_scores_are_mmocrs(tiny, iiit5k, beam_width):
    """Words and confidences equal what mmocr's predict (decoder + AttentionPostprocessor) gives."""
    model, images, out = tiny
    model.decoder.beam_width = beam_width
    try:
        with torch.no_grad():
            samples = model.test_step(iiit5k[0])
    finally:
        model.decoder.beam_width = 0
    onnx_model = ONNXRecognizer(out)
    words = postprocess(*onnx_model.decode(images.numpy(), beam_width), onnx_model.settings)
    assert [w for w, _ in words] == [s.pred_text.item for s in samples]
    np.testing.assert_allclose([s for _, s in words], [np.mean(s.pred_text.score) for s in samples], atol=1e-5)


def test_settings_travel_in_both_graphs(tiny):
    model, _, out = tiny
    texts = [{p.key: p.value for p in onnx.load(str(out / name)).metadata_props}[METADATA_KEY]
             for name in (ENCODER_FILE, DECODER_FILE)]
    assert texts[0] == texts[1]
    settings = DeploySettings.from_json(texts[0])
    vocab = model.decoder.dictionary
    assert settings.classes == tuple(vocab.dict) and settings.num_classes == 97
    assert (settings.end_idx, settings.bos_idx, settings.ignore_indexes) == (94, 97, (vocab.padding_idx, ))
    assert (settings.max_seq_len, settings.img_size, settings.channel_order) == (25, (32, 128), 'rgb')
    assert settings.mean == settings.std == (127.5, ) * 3


def test_int8_quantisation(tiny, tmp_path):
    model, images, out = tiny
    quantize_export(out, tmp_path)
    ops = {n.op_type for n in onnx.load(str(tmp_path / ENCODER_FILE)).graph.node}
    assert {'DynamicQuantizeLinear', 'MatMulInteger'} <= ops
    assert (tmp_path / ENCODER_FILE).stat().st_size < 0.5 * (out / ENCODER_FILE).stat().st_size
    int8 = ONNXRecognizer(tmp_path)
    assert int8.settings == ONNXRecognizer(out).settings
    report = compare_with_pytorch(model, int8, images, (1, ))
    assert 0 <= report['same_words_1'] <= 1
    with pytest.raises(ValueError, match='new folder'):
        quantize_export(out, out)


def test_graphs_of_different_exports_are_refused(tiny, tmp_path):
    _, _, out = tiny
    mixed = tmp_path / 'mixed'
    shutil.copytree(out, mixed)
    graph = onnx.load(str(mixed / DECODER_FILE))
    entry = next(p for p in graph.metadata_props if p.key == METADATA_KEY)
    entry.value = entry.value.replace('"max_seq_len": 25', '"max_seq_len": 30')
    onnx.save(graph, str(mixed / DECODER_FILE))
    with pytest.raises(ValueError, match='different exports'):
        ONNXRecognizer(mixed)
    del graph.metadata_props[:]
    onnx.save(graph, str(mixed / DECODER_FILE))
    with pytest.raises(ValueError, match='not an lmim_mm export'):
        ONNXRecognizer(mixed)
    (mixed / ENCODER_FILE).unlink()
    with pytest.raises(FileNotFoundError, match='pytorch2onnx'):
        ONNXRecognizer(mixed)
