"""No import cycles: every subpackage of lmim_mm imports first in a fresh interpreter."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: lmim_mm and its subpackages (not ``lmim_mm/.mim``, the copy of tools/ and configs/ for ``mim``)
SUBPACKAGES = sorted('.'.join(p.parent.relative_to(REPO).parts) for p in (REPO / 'lmim_mm').rglob('__init__.py')
                     if not any(part.startswith('.') for part in p.parts[len(REPO.parts):]))


def test_every_subpackage_is_listed():
    assert {'lmim_mm', 'lmim_mm.datasets', 'lmim_mm.engine', 'lmim_mm.models', 'lmim_mm.converters'} <= set(SUBPACKAGES)


@pytest.mark.parametrize('name', SUBPACKAGES)
def test_imports_first_in_a_fresh_interpreter(name):
    proc = subprocess.run([sys.executable, '-c', f'import {name}'], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f'import {name} failed:\n{proc.stderr[-3000:]}'
