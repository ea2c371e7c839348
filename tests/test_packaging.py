"""Packaging as an OpenMMLab project: dependency ranges that admit the tested set, an install into the
tested environment that changes no installed package, and the model index that ``mim search`` reads."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import List

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
#: The set `make setup` installs and the suite runs on (requirements/runtime.txt says so too).
TESTED = {'numpy': '1.26.4', 'mmcv': '2.0.1', 'mmengine': '0.10.7', 'mmdet': '3.1.0', 'mmocr': '1.0.1',
          'mmpretrain': '1.2.0'}
#: Requirements that tools/setup_env.sh leaves out on purpose (requirements/nodeps.txt says why).
ALLOWED_GAPS = ('openmim 0.3.9 requires opendatalab', 'albumentations 1.3.1 requires opencv-python-headless',
                'qudida 0.0.4 requires opencv-python-headless')
#: Config folders of the model index (each with a metafile.yml and a README.md); configs/demo/ has a README only.
INDEXED_FOLDERS = ('lmim', 'mae', 'mms', 'textrecog')


def install_requires() -> List[Requirement]:
    """``install_requires`` of setup.py, read with its own helpers (setup() itself does not run)."""
    spec = importlib.util.spec_from_file_location('lmim_setup', REPO / 'setup.py')
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    return [Requirement(r) for r in setup.parse_requirements('runtime.txt') + [setup.MMCV_REQUIREMENT]]


def pip(*args: str) -> subprocess.CompletedProcess:
    """Run this environment's pip."""
    return subprocess.run([sys.executable, '-m', 'pip', *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ranges_admit_the_tested_set_and_pin_nothing():
    requirements = {req.name: req for req in install_requires()}
    for name, tested in TESTED.items():
        assert requirements[name].specifier.contains(tested), f'{requirements[name]} rejects the tested {tested}'
        assert version(name) == tested, f'this environment has {name} {version(name)}, the tested set {tested}'
    for req in requirements.values():
        assert not any(spec.operator in ('==', '===') for spec in req.specifier), f'exact pin: {req}'
        assert req.specifier.contains(version(req.name), prereleases=True), f'{req.name} {version(req.name)} vs {req}'
    # the upper bounds that the stack's import-time checks set
    assert not requirements['mmcv'].specifier.contains('2.1.0')  # mmdet 3.1
    assert not requirements['mmdet'].specifier.contains('3.2.0')  # mmocr 1.0.1
    assert not requirements['mmengine'].specifier.contains('1.1.0')  # mmocr 1.0.1
    assert not requirements['numpy'].specifier.contains('2.0.0')  # imgaug


def test_pip_check_finds_only_the_documented_gaps():
    proc = pip('check')
    problems = [line for line in proc.stdout.splitlines() if line.strip() and not line.startswith(ALLOWED_GAPS)]
    assert not problems, proc.stdout


@pytest.fixture(scope='module')
def source_copy(tmp_path_factory) -> Path:
    """The project's source files in a fresh folder (an install builds there, not in the checkout)."""
    dst = tmp_path_factory.mktemp('src') / 'lmim_mm_src'
    ignore = shutil.ignore_patterns('.mim', '__pycache__', '*.egg-info', 'work_dirs')
    for name in ('lmim_mm', 'lmim_reference', 'lmim_synth', 'configs', 'tools', 'dicts'):
        shutil.copytree(REPO / name, dst / name, ignore=ignore)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'LICENSE', 'model-index.yml'):
        shutil.copy(REPO / name, dst / name)
    shutil.copytree(REPO / 'requirements', dst / 'requirements')
    return dst


def test_pip_install_changes_no_installed_package(source_copy, tmp_path):
    report = tmp_path / 'report.json'
    proc = pip('install', '--dry-run', '--no-build-isolation', '--report', str(report), str(source_copy))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = json.loads(report.read_text())['install']
    to_install = {item['metadata']['name']: item['metadata']['version'] for item in items}
    assert set(to_install) == {'lmim_mm'}, f'pip install . would change: {to_install}'


def test_mim_search_lists_the_models(source_copy, tmp_path):
    target = tmp_path / 'site'
    proc = pip('install', '--no-deps', '--no-build-isolation', '--target', str(target), str(source_copy))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    mim_dir = target / 'lmim_mm' / '.mim'
    assert (target / 'lmim_reference' / 'parity_pretrain.py').is_file() and (target / 'lmim_synth').is_dir()
    assert (mim_dir / 'model-index.yml').is_file() and (mim_dir / 'configs' / 'lmim' / 'metafile.yml').is_file()
    env = dict(os.environ, PYTHONPATH=str(target))
    proc = subprocess.run([str(Path(sys.executable).parent / 'mim'), 'search', 'lmim_mm'], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ('lmim_vit-s-p4_8xb64-amp-coslr-10e_union14m-u', 'mae_vit-s-p4_8xb128-amp-coslr-20e_union14m-u',
                 'mms_vit-s-p4_8xb128-amp-coslr-20e_union14m-u',
                 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-10e_union14m-l',
                 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-60e_fudanvi'):
        assert name in proc.stdout, proc.stdout


def indexed_configs() -> List[str]:
    """Runnable configs of the indexed folders (not a folder's shared '_' settings), relative to the repo."""
    return sorted(p.relative_to(REPO).as_posix() for folder in INDEXED_FOLDERS
                  for p in (REPO / 'configs' / folder).glob('*.py') if not p.name.startswith('_'))


def test_model_index_covers_every_config_and_folder():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    assert index['Import'] == [f'configs/{folder}/metafile.yml' for folder in INDEXED_FOLDERS]
    folders = {p.parent.name for p in (REPO / 'configs').glob('*/*.py')} - {'_base_'}
    assert folders == {*INDEXED_FOLDERS, 'demo'}
    for folder in folders:
        assert (REPO / 'configs' / folder / 'README.md').is_file(), f'configs/{folder} has no README.md'
    listed = set()
    for folder in INDEXED_FOLDERS:
        meta = yaml.safe_load((REPO / 'configs' / folder / 'metafile.yml').read_text())
        collections = {c['Name'] for c in meta['Collections']}
        for collection in meta['Collections']:
            assert (REPO / collection['README']).is_file(), collection['README']
        for model in meta['Models']:
            assert model['In Collection'] in collections, model['Name']
            assert (REPO / model['Config']).is_file(), model['Config']
            assert model['Weights'].startswith('work_dirs/'), model['Weights']  # local until published
            assert model['Name'] == Path(model['Config']).stem, model['Name']
            listed.add(model['Config'])
    assert listed == set(indexed_configs())
