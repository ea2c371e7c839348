"""The settings an export carries in its metadata."""
import json

import pytest

from lmim_mm.deploy.settings import FORMAT_VERSION, DeploySettings

SETTINGS = DeploySettings(classes=('a', 'ü', '<END>', '<PAD>'), end_idx=2, bos_idx=4, ignore_indexes=(3, ),
                          max_seq_len=25, beam_width=5, img_size=(32, 128), channel_order='rgb',
                          mean=(127.5, ) * 3, std=(127.5, ) * 3,
                          metrics=(dict(type='WordMetric', mode=['exact', 'ignore_case_symbol']), ))


def test_json_round_trip():
    text = SETTINGS.to_json()
    assert json.loads(text)['format_version'] == FORMAT_VERSION and 'ü' in text
    assert DeploySettings.from_json(text) == SETTINGS and SETTINGS.num_classes == 4


def test_optional_keys_take_their_defaults():
    data = json.loads(SETTINGS.to_json())
    del data['metrics'], data['format_version']
    settings = DeploySettings.from_json(json.dumps(data))
    assert settings.metrics == () and settings.format_version == FORMAT_VERSION


def test_missing_and_unknown_keys_name_the_source():
    data = json.loads(SETTINGS.to_json())
    del data['end_idx']
    data['colour'] = 1
    with pytest.raises(ValueError, match=r"enc.onnx: settings lack \['end_idx'\] / have unknown keys \['colour'\]"):
        DeploySettings.from_json(json.dumps(data), source='enc.onnx')


@pytest.mark.parametrize('change,message', [
    (dict(format_version=FORMAT_VERSION + 1), 'not supported'),
    (dict(channel_order='gray'), 'channel_order'),
    (dict(bos_idx=3), 'bos_idx'),
    (dict(end_idx=7), 'end_idx'),
    (dict(mean=[1.0]), 'mean/std'),
])
def test_invalid_settings_are_refused(change, message):
    data = {**json.loads(SETTINGS.to_json()), **change}
    with pytest.raises(ValueError, match=message):
        DeploySettings.from_json(json.dumps(data), source='dec.onnx')
