"""Run Python where only named packages can be imported: ``python -S`` in an empty environment whose
``PYTHONPATH`` is a folder of links to them.

``-S`` leaves out site-packages and the user's site, ``env -i`` every variable but that ``PYTHONPATH``; the
folder links the named packages (and the ``*.libs`` folders of bundled shared libraries beside them), so
the process sees the standard library, the script's folder and exactly those packages - a fresh
environment without installing one.
"""
import importlib.util
import sys
from pathlib import Path
from typing import List, Sequence

#: What ``lmim_mm.deploy`` needs (and lmim_mm itself, whose ``__init__`` imports nothing else without mmocr).
DEPLOY_PACKAGES = ('numpy', 'onnxruntime', 'PIL', 'lmim_mm')


def link_packages(folder: Path, modules: Sequence[str]) -> Path:
    """Fill ``folder`` (created) with links to the top-level ``modules`` and their neighbours' ``*.libs``.

    Raises:
        ModuleNotFoundError: a module is not installed here.
    """
    folder.mkdir(parents=True, exist_ok=True)
    homes = set()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f'{name} is not installed, cannot link it')
        source = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
        (folder / source.name).symlink_to(source)
        homes.add(source.parent)
    for libs in sorted(p for home in homes for p in home.glob('*.libs')):
        if not (folder / libs.name).exists():
            (folder / libs.name).symlink_to(libs)
    return folder


def isolated_command(folder: Path, script: Path, *args: str) -> List[str]:
    """The command that runs ``script`` with ``args`` seeing only the standard library, its own folder and
    ``folder``."""
    return ['env', '-i', f'PYTHONPATH={folder}', sys.executable, '-S', str(script), *args]


__all__ = ['DEPLOY_PACKAGES', 'isolated_command', 'link_packages']
