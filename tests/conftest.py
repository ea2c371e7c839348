"""Shared test fixtures: paths to ../shared (real data, authors' fixtures); every test starts without
the mmengine default scope that an earlier test's Runner or ``register_all_modules`` left behind."""
from pathlib import Path

import pytest
from mmengine.registry import DefaultScope

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = (REPO_ROOT / '..' / 'shared').resolve()


@pytest.fixture(autouse=True)
def isolated_default_scope():
    """Each test sees the default scopes that existed before it, and none that it created: a scope left
    current by one test (e.g. 'mmocr' from a recognizer Runner) would send another test's mmpretrain
    builds to mmocr's registry."""
    scopes = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)


def _require(path: Path) -> Path:
    if not path.exists():  # a missing ../shared is a failure, never a skip
        raise FileNotFoundError(f'test data not found: {path} (CI puts ../shared beside the repo)')
    return path


@pytest.fixture(scope='session')
def shared_dir() -> Path:
    return _require(SHARED)


@pytest.fixture(scope='session')
def fixtures_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / 'fixtures' / 'lmim_official')


@pytest.fixture(scope='session')
def real_data_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / 'data' / 'real_benchmarks')


@pytest.fixture(scope='session')
def toy_data_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / 'data' / 'mmocr_rec_toy')
