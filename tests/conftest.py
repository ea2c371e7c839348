"""Shared test fixtures: paths to ../shared (real data, authors' fixtures)."""
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = (REPO_ROOT / '..' / 'shared').resolve()


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
