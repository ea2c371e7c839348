"""``lmim_mm.deploy`` imports and reads words in an environment holding only numpy, onnxruntime and Pillow.

The subprocess runs with ``python -S`` (no site-packages) in an empty environment whose ``PYTHONPATH``
holds links to exactly those three packages and ``lmim_mm`` (:mod:`benchmarks.isolated_env`): torch,
mmcv, mmengine, mmocr, mmpretrain and OpenCV cannot be imported there.
"""
import json
import subprocess

import pytest
import torch

from benchmarks.isolated_env import DEPLOY_PACKAGES, isolated_command, link_packages
from benchmarks.tiny_recognizer import TINY_CONFIG, build_recognizer
from lmim_mm.apis.export import export_recognizer
from lmim_mm.deploy import ONNXRecognizer

HEAVY = ('torch', 'mmcv', 'mmengine', 'mmocr', 'mmpretrain', 'cv2')
SCRIPT = f"""
import importlib.util, json, sys
assert not any(importlib.util.find_spec(name) for name in {HEAVY!r}), 'a heavy package is importable'
from lmim_mm.deploy import ONNXRecognizer
words = ONNXRecognizer(sys.argv[1]).read_files(sys.argv[2:], batch_size=2, beam_width=3)
print(json.dumps(dict(words=words, modules=sorted({{m.split('.')[0] for m in sys.modules}}))))
"""


@pytest.fixture(scope='module')
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp('export')
    export_recognizer(build_recognizer(TINY_CONFIG), out, torch.zeros(2, 3, 32, 128))
    return out


def test_reads_words_without_torch_or_openmmlab(export, real_data_dir, tmp_path):
    images = [str(real_data_dir / 'iiit5k_test' / 'IMG' / f'{i}.png') for i in range(1, 4)]
    (tmp_path / 'read.py').write_text(SCRIPT)
    command = isolated_command(link_packages(tmp_path / 'site', DEPLOY_PACKAGES), tmp_path / 'read.py', str(export),
                               *images)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert 'lmim_mm' in out['modules'] and not set(HEAVY) & set(out['modules'])
    expected = ONNXRecognizer(export).read_files(images, beam_width=3)
    assert [w for w, _ in out['words']] == [w for w, _ in expected] and len(expected) == 3


def test_link_packages_refuses_a_missing_package(tmp_path):
    with pytest.raises(ModuleNotFoundError, match='no_such_package_xyz'):
        link_packages(tmp_path / 'site', ['no_such_package_xyz'])
