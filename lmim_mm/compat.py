"""Let the 2023 OpenMMLab stack import with numpy 2 and transformers 5 (imported first by :mod:`lmim_mm`; changes
nothing lmim_mm computes):

- numpy 2 removed ``np.sctypes``, read on import by imgaug 0.4.0 (for ``mmocr.datasets.transforms``): numpy 1's is back.
- mmpretrain 1.2.0 imports its multimodal models (BLIP, ...), which need names transformers 5 lacks, whenever
  pycocotools (for mmdet, imported by ``mmocr.models``) and transformers are installed. lmim_mm uses none of them:
  mmpretrain is made to see ``WITH_MULTIMODAL = False`` (it then registers placeholders, as without transformers)."""
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Optional, Sequence

import numpy as np

_MMPRETRAIN_DEPENDENCY = 'mmpretrain.utils.dependency'


def restore_numpy_sctypes() -> None:
    """Give numpy >= 2 back ``np.sctypes`` (numpy 1's grouping of its scalar types); no-op on numpy 1."""
    if 'sctypes' in vars(np) or int(np.__version__.split('.')[0]) < 2:
        return
    np.sctypes = dict(int=[np.int8, np.int16, np.int32, np.int64], uint=[np.uint8, np.uint16, np.uint32, np.uint64],
                      float=[np.float16, np.float32, np.float64, np.longdouble],
                      complex=[np.complex64, np.complex128, np.clongdouble], others=[bool, object, bytes, str, np.void])


class _WithoutMultimodal(importlib.abc.MetaPathFinder):
    """Finds ``mmpretrain.utils.dependency`` as usual and sets its ``WITH_MULTIMODAL`` to False once it has run."""

    def find_spec(self, fullname: str, path: Optional[Sequence[str]],
                  target: Optional[ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path) if fullname == _MMPRETRAIN_DEPENDENCY else None
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_without_multimodal(module: ModuleType) -> None:
            exec_module(module)
            module.WITH_MULTIMODAL = False

        spec.loader.exec_module = exec_without_multimodal
        return spec


def keep_mmpretrain_multimodal_unimported() -> None:
    """Install the finder (once), unless mmpretrain's dependency check has already run in this process."""
    if _MMPRETRAIN_DEPENDENCY not in sys.modules and not any(isinstance(f, _WithoutMultimodal) for f in sys.meta_path):
        sys.meta_path.insert(0, _WithoutMultimodal())


restore_numpy_sctypes()
keep_mmpretrain_multimodal_unimported()
