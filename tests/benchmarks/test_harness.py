"""python -m benchmarks: JSON lines of every measurement, parity checks inside it, the timing protocol."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope

from benchmarks.harness import EOS_IDX, MASK_CASES, MEASUREMENTS, Measurement, decode_words, time_alternating
from lmim_mm.models.selfsup import TextMAE
from lmim_mm.utils.checkpoint import load_strict
from lmim_reference.mae import ReferenceMAE, to_textmae_state_dict

REPO = Path(__file__).resolve().parents[2]
REQUIRED = {'name': str, 'ours': float, 'unit': str, 'device': str, 'dtype': str, 'batch': int}
OPTIONAL_FLOATS = ('reference', 'ratio', 'peak_mem_mb')


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'benchmarks', '--quick', *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope='module')
def quick_lines():
    proc = run_tool('--threads', '1')
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_every_line_is_a_complete_json_result(quick_lines):
    assert {line['name'] for line in quick_lines} == set(MEASUREMENTS)
    for line in quick_lines:
        for key, kind in REQUIRED.items():
            assert isinstance(line[key], kind), (key, line)
        for key in OPTIONAL_FLOATS:
            assert line[key] is None or isinstance(line[key], float), (key, line)
        assert line['ours'] > 0 and line['batch'] > 0 and line['device'] == 'cpu'
        assert line['unit'] in ('images/s', 'ms') and line['threads'] == 1
        if line['reference'] is None:
            assert line['ratio'] is None
        else:
            speedup = line['ours'] / line['reference'] if line['unit'] == 'images/s' else \
                line['reference'] / line['ours']
            assert line['ratio'] == pytest.approx(speedup, rel=1e-3)


def test_parity_checks_inside_the_benchmark(quick_lines):
    by_name = {}
    for line in quick_lines:
        by_name.setdefault(line['name'], []).append(line)
    for name in ('pretrain_step', 'mae_step', 'mms_step'):
        (line, ) = by_name[name]
        assert line['loss_abs_diff'] < 1e-4 and line['reference'] > 0
    (pretrain, ) = by_name['pretrain_step']
    assert pretrain['peak_mem_mb'] > 0 and pretrain['reference_peak_mem_mb'] > 0
    greedy = [line for line in by_name['recognize'] if line['case'] == 'greedy']
    assert [line['batch'] for line in greedy] == [1, 4]
    assert all(line['identical_predictions'] is True for line in greedy)
    assert {line['case'] for line in by_name['recognize']} == {'greedy', 'beam5'}
    assert {line['case'] for line in by_name['mask_gen']} == set(MASK_CASES)
    assert all(line['batch'] == 512 and line['reference'] is None for line in by_name['mask_gen'])


def test_only_filters_and_unknown_names_are_rejected():
    proc = run_tool('--only', 'mask_gen')
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line['case'] for line in lines] == list(MASK_CASES)
    proc = run_tool('--only', 'no_such_measurement')
    assert proc.returncode == 2 and 'no_such_measurement' in proc.stderr


def test_reference_mae_equals_text_mae_on_shared_weights():
    torch.manual_seed(0)
    reference = ReferenceMAE(embed_dim=32, depth=2, num_heads=2, decoder_embed_dim=16, decoder_depth=2,
                             decoder_num_heads=2).eval()
    for param in reference.parameters():  # move away from the zero / identity init
        param.data.add_(torch.randn_like(param) * 0.02)
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # whatever scope an earlier test module left current
        ours = TextMAE(backbone=dict(type='TextViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2),
                                     pos_grid='legacy'),
                       neck=dict(type='TextMAEDecoder', in_channels=32, embed_dim=16, depth=2, num_heads=2,
                                 pos_grid='legacy'),
                       head=dict(type='TextMAEHead')).eval()
    load_strict(ours, to_textmae_state_dict(reference.state_dict()))
    imgs = torch.randn(3, 3, 32, 128)
    with torch.no_grad():
        expected = reference(imgs)
        mask = expected['mask'].bool()  # the reference's float mask in our one encoding
        latent, _, ids_restore = ours.backbone.forward_masked(imgs, mask=mask)
        pred = ours.neck(latent, ids_restore)
        loss = ours.losses(ours.reconstruct(imgs, mask=mask))['loss_recon']
    assert int(expected['mask'].sum()) == 3 * 192
    torch.testing.assert_close(pred, expected['pred'], atol=1e-5, rtol=0)
    torch.testing.assert_close(loss, expected['loss'], atol=1e-6, rtol=0)


def test_time_alternating_flips_the_order_and_keeps_outputs():
    calls = []
    steps = {name: (lambda name=name: calls.append(name) or len(calls)) for name in ('a', 'b', 'c')}
    timings = time_alternating(steps, repeats=3, device='cpu', warmup={'a': lambda: calls.append('warm-a'),
                                                                        'b': lambda: None, 'c': lambda: None})
    assert calls == ['warm-a', 'a', 'b', 'c', 'c', 'b', 'a', 'a', 'b', 'c']
    assert {k: len(v) for k, v in timings.seconds.items()} == {'a': 3, 'b': 3, 'c': 3}
    assert timings.outputs == {'a': 8, 'b': 9, 'c': 10}
    assert timings.median('a') >= 0


def test_ratio_is_the_speedup_of_ours():
    common = dict(case=None, device='cpu', dtype='fp32', batch=1)
    assert Measurement('x', ours=30.0, reference=10.0, unit='images/s', **common).ratio == 3.0
    assert Measurement('x', ours=2.0, reference=10.0, unit='ms', **common).ratio == 5.0
    assert Measurement('x', ours=2.0, reference=None, unit='ms', **common).to_dict()['ratio'] is None


def test_words_stop_at_eos():
    ids = torch.tensor([[10, 11, EOS_IDX, 12], [0, 95, 1, 2]])
    assert decode_words(ids) == ['ab', '0<95>12']


# ---------------------------------------------------------------------------------------------- --pipeline
PIPELINE_KEYS = ('name', 'device', 'batch', 'dtype', 'images_per_s', 'peak_mem_gib', 'mfu', 'ratio')


@pytest.fixture(scope='module')
def pipeline_lines():
    proc = run_tool('--pipeline', '--device', 'cpu', '--threads', '1')
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_pipeline_quick_measures_every_step_against_the_reference(pipeline_lines):
    from benchmarks.harness import machine_name

    names = [line['name'] for line in pipeline_lines]
    assert names == ['lmim_train', 'mae_train', 'recognizer_train', 'recognize_greedy', 'recognize_beam5',
                     'data_workers', 'data_workers']
    for line in pipeline_lines:
        assert set(PIPELINE_KEYS) <= set(line), line
        assert line['device'] == machine_name('cpu') and line['images_per_s'] > 0 and line['batch'] == 4
        assert line['peak_mem_gib'] is None and line['mfu'] is None  # CPU: no CUDA memory, no bf16 peak
        if line['name'] == 'data_workers':
            assert line['ratio'] is None and line['dtype'] == 'uint8'
        else:
            assert line['dtype'] == 'bf16' and line['ratio'] > 0
            assert line['images_per_s'] / line['reference_images_per_s'] == pytest.approx(line['ratio'], rel=1e-2)
    assert [line['workers'] for line in pipeline_lines if line['name'] == 'data_workers'] == [0, 1]
    train = [line for line in pipeline_lines if line['name'].endswith('_train')]
    assert all(line['flops_per_image'] > 0 for line in train)


def test_pipeline_mfu_is_training_flops_over_the_chip_peak(monkeypatch):
    from benchmarks import pipeline

    monkeypatch.setattr(pipeline, 'peak_flops', lambda device: ('NVIDIA H100 80GB HBM3', 1e12))
    line = pipeline.result('lmim_train', pipeline.QUICK_PIPELINE, batch=8, seconds=0.5, ref_seconds=1.5,
                           flops=3e9)
    assert line['images_per_s'] == 16 and line['ratio'] == 3 and line['mfu'] == pytest.approx(16 * 3e9 / 1e12)
    assert line['device'] == 'NVIDIA H100 80GB HBM3' and line['peak_bf16_flops'] == 1e12


@pytest.mark.parametrize('name', ['lmim', 'mae', 'recognizer'])
def test_bf16_amp_optim_wrapper_runs_forward_and_backward_on_cpu(name):
    """The configs' models under mmengine's AmpOptimWrapper (bf16) on CPU: bf16 matmuls in forward, finite fp32
    gradients in every trainable encoder parameter, and the step moves the weights."""
    from mmengine.optim import AmpOptimWrapper

    from benchmarks.pipeline import build_model, build_optim_wrapper, load_config, pretrain_batch, recognizer_batch

    cfg = load_config(name, quick=True)
    model = build_model(cfg, 'cpu')
    wrapper = build_optim_wrapper(model, cfg, 'bf16')
    assert isinstance(wrapper, AmpOptimWrapper) and wrapper.cast_dtype == torch.bfloat16
    linear_dtypes = []
    first_linear = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.Linear))
    hook = first_linear.register_forward_hook(lambda module, args, out: linear_dtypes.append(out.dtype))
    batch = recognizer_batch(4) if name == 'recognizer' else pretrain_batch(cfg, 4)
    with wrapper.optim_context(model):
        losses = model(**model.data_preprocessor(batch, True), mode='loss')
    loss, _ = model.parse_losses(losses)
    wrapper.backward(loss)
    hook.remove()
    assert linear_dtypes and set(linear_dtypes) == {torch.bfloat16} and torch.isfinite(loss)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert all(p.grad is not None and p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all()
               for n, p in trainable.items() if n.startswith('backbone.')), 'every encoder weight gets a gradient'
    before = {n: p.detach().clone() for n, p in trainable.items()}
    wrapper.step()
    assert any(not torch.equal(before[n], p) for n, p in trainable.items())
