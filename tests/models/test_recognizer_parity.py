"""The recognizer against the authors' fixture: parity, reference re-creation, converter, sizes."""
import runpy
import sys
from pathlib import Path

import pytest
import torch

from lmim_mm.converters import ConversionError
from lmim_mm.converters.authors import convert_lmim_recognizer
from lmim_mm.models.backbones.text_vit import TextViT
from lmim_mm.models.layers.text_decoder import TransformerTextDecoder
from lmim_mm.models.necks.linear_norm import LinearNorm
from lmim_reference.parity_recognizer import check_recognizer_fixture
from lmim_reference.recognizer import ReferenceRecognizer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def fixture(fixtures_dir):
    return torch.load(fixtures_dir / 'lmim_recognizer_seed0.pt', weights_only=True)


@pytest.fixture(scope='module')
def param_counts(fixtures_dir):
    return torch.load(fixtures_dir / 'param_counts.pt', weights_only=True)


def test_fixture_parity(fixture):
    report = check_recognizer_fixture(fixture)
    assert set(report) == {'train_logits', 'greedy_probs', 'greedy_ids'}
    assert report['greedy_ids'] == {'max_abs_err': 0.0, 'tol': 0.0}
    for name, result in report.items():
        assert result['max_abs_err'] <= result['tol'], (name, result)


def test_reference_recognizer_reproduces_fixture(fixture):
    ref = ReferenceRecognizer(fixture['encoder_config'], fixture['decoder_config']).eval()
    state_dict, _ = convert_lmim_recognizer(fixture['official_state_dict'])
    ref.load_state_dict(state_dict, strict=True)
    expected = fixture['expected']
    logits = ref.forward_train(fixture['imgs'], fixture['labels'], fixture['label_lens'])
    torch.testing.assert_close(logits, expected['train_logits'], atol=1e-4, rtol=0)
    ids, probs = ref.greedy(fixture['imgs'])
    assert ids.equal(expected['greedy_ids'])
    torch.testing.assert_close(probs, expected['greedy_probs'], atol=1e-4, rtol=0)


def test_parity_detects_a_wrong_model(fixture):
    broken = dict(fixture, official_state_dict=dict(fixture['official_state_dict']))
    broken['official_state_dict']['linear_norm.1.bias'] = broken['official_state_dict']['linear_norm.1.bias'] + 0.1
    report = check_recognizer_fixture(broken)
    assert report['train_logits']['max_abs_err'] > 1e-2


def test_converter_maps_every_key_and_unwraps_training_checkpoints(fixture):
    official = fixture['official_state_dict']
    bare, dropped = convert_lmim_recognizer(official)
    assert len(bare) == len(official) and dropped == []
    assert {k.split('.')[0] for k in bare} == {'backbone', 'encoder', 'decoder'}
    assert bare['decoder.transformer.trg_word_emb.weight'] is official['decoder.trg_word_emb.weight']
    assert bare['encoder.norm.weight'] is official['linear_norm.1.weight']
    extra = dict(official, **{'encoder.mask_token': torch.zeros(1, 1, 64),
                              'encoder.decoder_pred.weight': torch.zeros(48, 64)})
    wrapped, dropped = convert_lmim_recognizer({'model': extra, 'optimizer': {}, 'epoch': 9})
    assert wrapped.keys() == bare.keys() and sorted(dropped) == ['encoder.decoder_pred.weight', 'encoder.mask_token']
    with pytest.raises(ConversionError, match='decoder.extra_head.weight'):
        convert_lmim_recognizer(dict(official, **{'decoder.extra_head.weight': torch.zeros(1)}), source='ckpt.pth')


def test_converter_cli_writes_an_mmengine_checkpoint(fixture, tmp_path, monkeypatch):
    src, dst = tmp_path / 'authors.pth', tmp_path / 'out' / 'mm.pth'
    torch.save({'model': fixture['official_state_dict'], 'epoch': 3}, src)
    monkeypatch.setattr(sys, 'argv', ['lmim_recognizer_to_mm.py', str(src), str(dst)])
    runpy.run_path(str(REPO / 'tools' / 'model_converters' / 'lmim_recognizer_to_mm.py'), run_name='__main__')
    ckpt = torch.load(dst, weights_only=True)
    expected, _ = convert_lmim_recognizer(fixture['official_state_dict'])
    assert ckpt['state_dict'].keys() == expected.keys() and ckpt['meta']['source'] == str(src)
    assert all(ckpt['state_dict'][k].equal(v) for k, v in expected.items())
    assert [p.name for p in dst.parent.iterdir()] == ['mm.pth']  # no temporary file left


@pytest.mark.parametrize('num_classes,key', [(97, 'finetune_en_97'), (7937, 'finetune_zh_7937')])
def test_full_size_parameter_count(num_classes, key, param_counts):
    modules = [TextViT('s'), LinearNorm(384, 512), TransformerTextDecoder(num_classes)]
    total = sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)
    assert total == param_counts[key] == {97: 35_791_457, 7937: 43_827_457}[num_classes]


def test_dictionaries(fixture):
    english = (REPO / 'dicts' / 'english_digits_letters_symbols.txt').read_text(encoding='utf-8').splitlines()
    assert english == list(fixture['charset'])
    chinese = (REPO / 'dicts' / 'chinese_fudanvi.txt').read_text(encoding='utf-8').splitlines()
    assert len(chinese) == len(set(chinese)) == 7934 and all(len(c) == 1 for c in chinese)
