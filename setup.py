"""Packaging for lmim_mm, an OpenMMLab plugin for self-supervised scene text recognition."""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
# mmdet 3.1 asserts mmcv < 2.1.0; tested with 2.0.1, built by tools/setup_env.sh (installed before the rest)
MMCV_REQUIREMENT = 'mmcv>=2.0.1,<2.1.0'


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(ROOT, 'lmim_mm', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Read requirement lines of ``requirements/<fname>`` (comments dropped)."""
    reqs = []
    with open(osp.join(ROOT, 'requirements', fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Place ``configs/``, ``tools/``, ``dicts/`` and ``model-index.yml`` in ``lmim_mm/.mim`` for ``mim``.

    ``mim train/test`` find the tools and configs there, ``mim search`` the model index.

    Copies for a normal install or wheel build, symlinks for ``develop`` (as mmocr and mmpretrain do).
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink' if os.name != 'nt' else 'copy'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv or 'install' in sys.argv:
        mode = 'copy'
    else:
        return
    mim_path = osp.join(ROOT, 'lmim_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'dicts', 'model-index.yml'):
        src = osp.join(ROOT, name)
        dst = osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if not osp.exists(src):
            continue
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isfile(src):
            shutil.copyfile(src, dst)
        else:
            shutil.copytree(src, dst)
            if not osp.exists(dst):
                warnings.warn(f'could not copy {src} into {dst}', stacklevel=2)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='lmim_mm',
        version=get_version(),
        description='Self-supervised scene text recognition (LMIM, MAE, MMS) as an OpenMMLab plugin',
        long_description=open(osp.join(ROOT, 'README.md'), encoding='utf-8').read(),
        long_description_content_type='text/markdown',
        license='Apache-2.0',
        python_requires='>=3.10',
        # the library, the re-creation of the authors' computation (tests, benchmarks, tools/check_parity.py) and
        # the synthetic word renderer of the demo data (tools/data/make_synthetic.py)
        packages=find_packages(include=('lmim_mm', 'lmim_mm.*', 'lmim_reference', 'lmim_synth')),
        include_package_data=True,
        install_requires=parse_requirements('runtime.txt') + [MMCV_REQUIREMENT],
        extras_require={'tests': parse_requirements('tests.txt'), 'deploy': parse_requirements('deploy.txt')},
        zip_safe=False,
    )
